# ctest's install.consumer: installs this build into a scratch prefix, builds examples/consumer
# against it with find_package(tflstm) (for the same target, with the same toolchain) twice,
# with every op and as a selective build with OPS, and runs both (under the emulator when
# cross-compiling). The selective one must give the same output on MODEL, refuse REFUSED (a
# model with an op left out) naming the op, and be at most MAX_BYTES when stripped (0: any
# size, for sanitizer builds).
#   cmake -DBUILD= -DSOURCE= -DWORK= -DMODEL= -DOPS= -DREFUSED= -DSTRIP= -DMAX_BYTES=
#         [-DTOOLCHAIN=] [-DEMULATOR=] -P consumer_test.cmake
file(REMOVE_RECURSE "${WORK}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()
run("${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${WORK}/stage")

# Builds the consumer into WORK/<name> and sets <name>_bytes to its stripped size.
function(build_consumer name)
  set(configure "${CMAKE_COMMAND}" -S "${SOURCE}" -B "${WORK}/${name}" -G Ninja -DCMAKE_BUILD_TYPE=Release
      "-Dtflstm_DIR=${WORK}/stage/lib/cmake/tflstm" ${ARGN})
  if(TOOLCHAIN)
    list(APPEND configure "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}")
  endif()
  run(${configure})
  run("${CMAKE_COMMAND}" --build "${WORK}/${name}")
  run("${STRIP}" -o "${WORK}/${name}/consumer.stripped" "${WORK}/${name}/consumer")
  file(SIZE "${WORK}/${name}/consumer.stripped" bytes)
  set(${name}_bytes ${bytes} PARENT_SCOPE)
endfunction()

build_consumer(full)
run(${EMULATOR} "${WORK}/full/consumer" "${MODEL}")
set(full_out "${out}")
message(STATUS "${full_out}")
if(NOT full_out MATCHES "consumer: 4 output values")
  message(FATAL_ERROR "unexpected output: ${full_out}")
endif()

build_consumer(selective "-DCONSUMER_OPS=${OPS}")
run(${EMULATOR} "${WORK}/selective/consumer" "${MODEL}")
if(NOT out STREQUAL full_out)
  message(FATAL_ERROR "the selective build computed\n${out}\nbut the full build\n${full_out}")
endif()
execute_process(COMMAND ${EMULATOR} "${WORK}/selective/consumer" "${REFUSED}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "unsupported op: .* needs an op that this runtime \\(TFLite [0-9.]+ selective build \\(.*\\)\\) cannot run: ADD version")
  message(FATAL_ERROR "the selective build should refuse ${REFUSED} naming ADD, but exited ${rc}:\n${out}\n${err}")
endif()
message(STATUS "refused: ${err}")
message(STATUS "stripped consumer: every op ${full_bytes} bytes, selective ${selective_bytes} bytes")
if((MAX_BYTES AND selective_bytes GREATER MAX_BYTES) OR NOT selective_bytes LESS full_bytes)
  message(FATAL_ERROR "the selective consumer is ${selective_bytes} bytes stripped (budget ${MAX_BYTES}, full ${full_bytes})")
endif()
