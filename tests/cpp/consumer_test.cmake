# ctest's install.consumer: installs this build into a scratch prefix, builds examples/consumer
# against it with find_package(tflstm) (for the same target, with the same toolchain), and
# runs the result (under the emulator when cross-compiling).
#   cmake -DBUILD= -DSOURCE= -DWORK= -DMODEL= [-DTOOLCHAIN=] [-DEMULATOR=] -P consumer_test.cmake
file(REMOVE_RECURSE "${WORK}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()
run("${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${WORK}/stage")
set(configure "${CMAKE_COMMAND}" -S "${SOURCE}" -B "${WORK}/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
    "-Dtflstm_DIR=${WORK}/stage/lib/cmake/tflstm")
if(TOOLCHAIN)
  list(APPEND configure "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}")
endif()
run(${configure})
run("${CMAKE_COMMAND}" --build "${WORK}/build")
run(${EMULATOR} "${WORK}/build/consumer" "${MODEL}")
message(STATUS "${out}")
if(NOT out MATCHES "consumer: [0-9]+ output values")
  message(FATAL_ERROR "unexpected output: ${out}")
endif()
