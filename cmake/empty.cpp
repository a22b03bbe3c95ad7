// libxcept.so is xcept_lib's objects, linked whole (cmake/install.cmake); a shared
// library target needs one source of its own.
