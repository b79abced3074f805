# The fake Slack: a library the unit-test program links for its loopback tests, and a small
# standalone program for end-to-end scripts that run the real binary against it.
add_library(pm_fake_slack STATIC ${CMAKE_CURRENT_LIST_DIR}/fake_slack.cpp)
target_link_libraries(pm_fake_slack PUBLIC pm_adapters)
target_include_directories(pm_fake_slack PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(pm_unit_tests PRIVATE pm_fake_slack)

add_executable(fake_slack ${CMAKE_CURRENT_LIST_DIR}/fake_slack_main.cpp)
target_link_libraries(fake_slack PRIVATE pm_fake_slack)
