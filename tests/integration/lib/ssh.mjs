// Stock OpenSSH clients for the SSH transport tests: every process has a deadline after
// which it is killed, and every wait names what it waited for.
import { spawn } from 'node:child_process';

export const SSH_OPTS = [
  '-o', 'StrictHostKeyChecking=no',
  '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'ConnectTimeout=5',
  '-o', 'LogLevel=INFO',
];

/**
 * Runs `ssh` (or `sshpass ... ssh` when `password` is given) with `args`. Resolves
 * nothing by itself: use waitOutput() and exited. Killed after `deadline` ms.
 */
export function spawnSsh(args, { password, deadline = 30000, stdin = 'pipe' } = {}) {
  const argv = password !== undefined
    ? ['sshpass', ['-e', 'ssh', ...SSH_OPTS, ...args]]
    : ['ssh', [...SSH_OPTS, '-o', 'BatchMode=yes', ...args]];
  const proc = spawn(argv[0], argv[1], {
    stdio: [stdin, 'pipe', 'pipe'],
    env: { ...process.env, ...(password !== undefined ? { SSHPASS: password } : {}) },
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set();
  const changed = () => { for (const l of listeners) l(); };
  proc.stdout.on('data', (d) => { stdout += d; changed(); });
  proc.stderr.on('data', (d) => { stderr += d; changed(); });
  const timer = setTimeout(() => proc.kill('SIGKILL'), deadline);
  let exitInfo = null;
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    clearTimeout(timer);
    exitInfo = { code, signal };
    changed();
    resolve(exitInfo);
  }));
  return {
    proc,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    /** Resolves when stdout+stderr match `re`; rejects on exit or after `timeout`. */
    waitOutput(re, { timeout = 15000, what = String(re) } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = (stdout + stderr).match(re);
          if (m) { done(); resolve(m); return; }
          if (exitInfo) { done(); reject(new Error(`ssh exited (${JSON.stringify(exitInfo)}) before ${what}:\n${stdout}${stderr}`)); }
        };
        const t = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}:\n${stdout}${stderr}`)); }, timeout);
        const done = () => { clearTimeout(t); listeners.delete(check); };
        listeners.add(check);
        check();
      });
    },
    /** Resolves with the exit status; rejects if it does not come within `timeout`. */
    async waitExit({ timeout = 15000, what = 'ssh to exit' } = {}) {
      let t;
      const r = await Promise.race([exited, new Promise((_, reject) => {
        t = setTimeout(() => reject(new Error(`timed out waiting for ${what}:\n${stdout}${stderr}`)), timeout);
      })]);
      clearTimeout(t);
      return r;
    },
    kill() { if (!exitInfo) proc.kill('SIGKILL'); return exited; },
  };
}

/**
 * `ssh -v -N -R <spec>` with the id:token URL (or `id@` and the password when
 * `password` is set); resolves once the server granted the forward.
 */
export async function forward(sshPort, id, token, spec, { password = false, deadline } = {}) {
  const dest = password ? ['-p', String(sshPort), `${id}@127.0.0.1`]
    : [`ssh://${id}:${token}@127.0.0.1:${sshPort}`];
  const ssh = spawnSsh(['-v', '-N', '-o', 'ExitOnForwardFailure=yes', '-R', spec, ...dest],
    { password: password ? token : undefined, deadline });
  try {
    await ssh.waitOutput(/remote forward success/, { what: `the forward ${spec}` });
  } catch (e) {
    ssh.kill();
    throw e;
  }
  return ssh;
}
