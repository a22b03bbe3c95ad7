# The installed library: libxcept.so with the headers of include/xcept, a CMake package
# (find_package(xcept) -> xcept::xcept) and a pkg-config file; the xcept program; the
# Python module when it is built. Included from the top-level CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The shared library is the whole engine (xcept_lib, compiled position-independent with
# hidden visibility) with only the XCEPT_API symbols of include/xcept exported.
add_library(xcept SHARED cmake/empty.cpp)
target_link_libraries(xcept PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,xcept_lib>")
target_include_directories(xcept INTERFACE
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(xcept INTERFACE cxx_std_20)
set_target_properties(xcept PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
                                       EXPORT_NAME xcept)
add_library(xcept::xcept ALIAS xcept)

install(TARGETS xcept EXPORT xceptTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS xcept_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/xcept DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(XCEPT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/xcept)
install(EXPORT xceptTargets NAMESPACE xcept:: DESTINATION ${XCEPT_CMAKE_DIR})
configure_package_config_file(cmake/xceptConfig.cmake.in
  ${CMAKE_BINARY_DIR}/xceptConfig.cmake INSTALL_DESTINATION ${XCEPT_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/xceptConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/xceptConfig.cmake ${CMAKE_BINARY_DIR}/xceptConfigVersion.cmake
        DESTINATION ${XCEPT_CMAKE_DIR})

file(RELATIVE_PATH XCEPT_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" XCEPT_PC_TO_PREFIX "${XCEPT_PC_TO_PREFIX}")
configure_file(cmake/xcept.pc.in ${CMAKE_BINARY_DIR}/xcept.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/xcept.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
