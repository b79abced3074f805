# The fake Matrix homeserver: a library the unit-test program links for its loopback tests.
add_library(pm_fake_matrix STATIC ${CMAKE_CURRENT_LIST_DIR}/fake_matrix.cpp)
target_link_libraries(pm_fake_matrix PUBLIC pm_adapters)
target_include_directories(pm_fake_matrix PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(pm_unit_tests PRIVATE pm_fake_matrix)

# The same fake as a program for end-to-end scripts: prints its base URL, serves until SIGTERM.
add_executable(fake-matrix ${CMAKE_CURRENT_LIST_DIR}/fake_matrix_main.cpp)
target_link_libraries(fake-matrix PRIVATE pm_fake_matrix)
