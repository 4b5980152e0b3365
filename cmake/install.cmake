# What `cmake --install <build> --prefix P` puts in P: the libraries
# (libwarren.a = warren::common, libwarren_worker.a = warren::worker), their
# headers in include/warren/, pkg-config files (warren.pc, warren-worker.pc),
# the CMake package (find_package(warren)), the executables, the manual of
# the command-line client (share/man/man1/warren.1) and the licence. Included by the top CMakeLists.txt after every target exists.
include(CMakePackageConfigHelpers)

set(WARREN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/warren)

# A target's include directories as its consumers see them: a plain path
# (a source or build folder) counts for the build only, the installed
# interface is include/ alone. Folders of generated headers in the build
# tree (warren/version.h) are installed beside the written ones.
function(warren_install_headers target)
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  set(kept "")
  foreach(dir IN LISTS dirs)
    string(REGEX REPLACE "^\\$<BUILD_INTERFACE:(.*)>$" "\\1" path "${dir}")
    if(path MATCHES "^\\$<")
      list(APPEND kept "${dir}") # an install or other expression: as written
      continue()
    endif()
    list(APPEND kept "$<BUILD_INTERFACE:${path}>")
    string(FIND "${path}/" "${PROJECT_BINARY_DIR}/" in_build)
    if(in_build EQUAL 0)
      install(DIRECTORY "${path}/" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} OPTIONAL
        FILES_MATCHING PATTERN "*.h")
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${kept}")
endfunction()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/common/include/ ${PROJECT_SOURCE_DIR}/common/worker/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/proto/warren DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
warren_install_headers(warren_common)
warren_install_headers(warren_worker)

# A library built with sanitizers needs their runtime wherever it is
# linked: the installed interface says so (the build's own targets get it
# from warren_sanitize, which is never exported).
set(WARREN_PC_SANITIZE "")
if(WARREN_SANITIZE)
  list(JOIN WARREN_SANITIZE "," _san)
  set_property(TARGET warren_common APPEND PROPERTY INTERFACE_LINK_OPTIONS
    "$<INSTALL_INTERFACE:-fsanitize=${_san}>")
  set(WARREN_PC_SANITIZE " -fsanitize=${_san}")
endif()

# Two export sets: a client needs only warren::common, and finds it on a
# machine without libmongoc.
install(TARGETS warren_common EXPORT warrenTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS warren_worker EXPORT warrenWorkerTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT warrenTargets NAMESPACE warren:: DESTINATION ${WARREN_CMAKE_DIR})
install(EXPORT warrenWorkerTargets NAMESPACE warren:: DESTINATION ${WARREN_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/warrenConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/warrenConfig.cmake INSTALL_DESTINATION ${WARREN_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/warrenConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/warrenConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/warrenConfigVersion.cmake DESTINATION ${WARREN_CMAKE_DIR})

# The .pc files find the prefix from where they lie (${pcfiledir}), so the
# prefix can be chosen at install time (--prefix) rather than at configure.
file(RELATIVE_PATH WARREN_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" WARREN_PC_TO_PREFIX "${WARREN_PC_TO_PREFIX}")
foreach(dir INCLUDEDIR LIBDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(WARREN_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(WARREN_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
foreach(pc warren warren-worker)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc
    @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

install(TARGETS warren-edge warren-catalog warren-auditlog warren
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/tools/cli/warren.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
