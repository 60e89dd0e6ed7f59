# Debian package and systemd unit. Included at the end of the top-level CMakeLists.txt.
#
#   cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=Release -DEXPOSR_TESTS=OFF \
#         -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_INSTALL_LIBDIR=lib
#   cmake --build build-pkg && (cd build-pkg && cpack -G DEB)
#
# gives build-pkg/exposrd_<version>_<arch>.deb: /usr/sbin/exposrd, the client
# /usr/bin/exposr, the server's modules in
# /usr/lib/exposrd/modules, /etc/exposrd/exposrd.yaml and /etc/default/exposrd
# (conffiles), and exposrd.service. The maintainer scripts create and, on purge, remove
# the `exposrd` system user. packaging/test-deb.sh builds, installs and runs it.

# The unit, the maintainer scripts and the conffile list name installed paths.
set(EXPOSR_SYSTEMD_UNIT_DIR lib/systemd/system
    CACHE STRING "where exposrd.service is installed, relative to the prefix")
set(EXPOSR_USER exposrd)
set(EXPOSR_STATE_DIR /var/lib/exposrd)
set(EXPOSR_INSTALLED_CONFIG ${CMAKE_INSTALL_FULL_SYSCONFDIR}/exposrd/exposrd.yaml)
set(EXPOSR_INSTALLED_DEFAULTS ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default/exposrd)
set(_pkg_out ${CMAKE_BINARY_DIR}/packaging)

# The module directory belongs to the package even before any module is built.
install(DIRECTORY DESTINATION ${EXPOSR_MODULE_INSTALL_DIR})
configure_file(${CMAKE_CURRENT_LIST_DIR}/exposrd.service ${_pkg_out}/exposrd.service @ONLY)
install(FILES ${_pkg_out}/exposrd.service DESTINATION ${EXPOSR_SYSTEMD_UNIT_DIR})
install(FILES ${CMAKE_CURRENT_LIST_DIR}/exposrd.default
        DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/default RENAME exposrd)

set(_control_extra "")
foreach(script postinst prerm postrm)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/deb/${script}.in ${_pkg_out}/deb/${script} @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                  GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  list(APPEND _control_extra ${_pkg_out}/deb/${script})
endforeach()
file(WRITE ${_pkg_out}/deb/conffiles "${EXPOSR_INSTALLED_CONFIG}\n${EXPOSR_INSTALLED_DEFAULTS}\n")
list(APPEND _control_extra ${_pkg_out}/deb/conffiles)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME exposrd)
set(CPACK_PACKAGE_VENDOR exposrd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-hosted reverse-tunnel server")
set(CPACK_PACKAGE_DESCRIPTION
    "exposrd exposes services behind NAT or a firewall through public URLs: a tunnel\n"
    "client connects out to the server, and public traffic for the tunnel is carried\n"
    "back over that connection. A C implementation of the exposr server, compatible\n"
    "with the exposr client. The package also ships that client, /usr/bin/exposr\n"
    "(tunnel connect and the account and tunnel commands of exposr 0.10).\n"
    "The service is installed but not enabled:\n"
    "edit /etc/exposrd/exposrd.yaml, then `systemctl enable --now exposrd`.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "exposrd maintainers <exposrd@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # exposrd_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime libraries of the binary and every module, as dpkg-shlibdeps finds them;
# passwd for useradd/userdel in the maintainer scripts.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${_control_extra}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only what `cmake --install` installs: no test fixtures.
set(CPACK_STRIP_FILES ON)
include(CPack)
