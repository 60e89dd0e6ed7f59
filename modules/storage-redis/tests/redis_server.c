/* A throw-away redis-server on a free loopback port, for the module's tests. */
#include "redis_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_WAIT_MS 5000
#define STOP_WAIT_MS  5000

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int redis_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int port = -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool answers_ping(const struct redis_server *s)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
	bool ok = false;
	if (c != NULL && c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK) {
		redisReply *auth =
		        s->password != NULL ? redisCommand(c, "AUTH %s", s->password) : NULL;
		if (auth != NULL)
			freeReplyObject(auth);
		redisReply *pong = redisCommand(c, "PING");
		ok = pong != NULL && pong->type == REDIS_REPLY_STATUS &&
		     strcmp(pong->str, "PONG") == 0;
		if (pong != NULL)
			freeReplyObject(pong);
	}
	if (c != NULL)
		redisFree(c);
	return ok;
}

static int spawn(struct redis_server *s)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", s->port);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		const char *argv[24] = {REDIS_SERVER, "--port",       port,
		                        "--bind",     "127.0.0.1",    "--save",
		                        "",           "--appendonly", s->appendonly ? "yes" : "no",
		                        "--dir",      s->dir,         "--daemonize",
		                        "no",         "--logfile",    "redis.log"};
		int argc = 15;
		if (s->password != NULL) {
			argv[argc++] = "--requirepass";
			argv[argc++] = s->password;
		}
		argv[argc] = NULL;
		execv(REDIS_SERVER, (char *const *)argv);
		_exit(127);
	}
	s->pid = pid;
	long long deadline = now_ms() + START_WAIT_MS;
	while (now_ms() < deadline) {
		if (answers_ping(s))
			return 0;
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			s->pid = 0;
			return -1;
		}
		usleep(20000);
	}
	redis_server_stop(s);
	return -1;
}

int redis_server_start(struct redis_server *s, bool appendonly, const char *password)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/exposr-redis-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	s->appendonly = appendonly;
	s->password = password;
	/* A port found free may be taken before redis binds it: try a few. */
	for (int attempt = 0; attempt < 5; attempt++) {
		if ((s->port = redis_free_port()) > 0 && spawn(s) == 0)
			return 0;
	}
	return -1;
}

int redis_server_restart(struct redis_server *s)
{
	redis_server_stop(s);
	return spawn(s);
}

void redis_server_stop(struct redis_server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	long long deadline = now_ms() + STOP_WAIT_MS;
	int status;
	while (waitpid(s->pid, &status, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			break;
		}
		usleep(10000);
	}
	s->pid = 0;
}

void redis_server_kill(struct redis_server *s)
{
	if (s->pid <= 0)
		return;
	int status;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

void redis_server_cleanup(struct redis_server *s)
{
	redis_server_stop(s);
	if (s->dir[0] == '\0')
		return;
	char command[PATH_MAX + 16];
	snprintf(command, sizeof(command), "rm -rf '%s'", s->dir);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", s->dir);
	s->dir[0] = '\0';
}
