# Provides the imported target tflstm::tflite: TensorFlow Lite 2.14.1 built from Debian's
# sources by third_party/, once per architecture, ISA and compiler, into a prefix under the
# tflstm cache. Later configures (pip builds, test builds) reuse that prefix without network.
#
#   TFLSTM_CACHE_DIR      cache root (default: $TFLSTM_CACHE or ~/.cache/tflstm)
#   TFLSTM_TFLITE_PREFIX  use an existing prefix instead of building one
#   TFLSTM_ISA            value of -march for TFLite and tflstm (see CMakeLists.txt)
#   TFLSTM_TFLITE_SANITIZE  sanitizers TFLite itself is compiled with (its own prefix), e.g.
#                         fuzzer-no-link,address,undefined for fuzzing (tests/fuzz)

if(DEFINED ENV{TFLSTM_CACHE} AND NOT "$ENV{TFLSTM_CACHE}" STREQUAL "")
  set(_tflstm_default_cache "$ENV{TFLSTM_CACHE}")
elseif(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
  set(_tflstm_default_cache "$ENV{XDG_CACHE_HOME}/tflstm")
else()
  set(_tflstm_default_cache "$ENV{HOME}/.cache/tflstm")
endif()
set(TFLSTM_CACHE_DIR "${_tflstm_default_cache}" CACHE PATH "tflstm download and build cache")
set(TFLSTM_TFLITE_PREFIX "" CACHE PATH "Prefix of an already built tflstm-tflite (empty: build it in the cache)")
set(TFLSTM_TFLITE_SANITIZE "" CACHE STRING "Sanitizers for TFLite itself, e.g. fuzzer-no-link,address,undefined")

function(_tflstm_debian_arch out)
  set(p "${CMAKE_SYSTEM_PROCESSOR}")
  if(p MATCHES "^(x86_64|AMD64|amd64)$")
    set(${out} amd64 PARENT_SCOPE)
  elseif(p MATCHES "^(aarch64|arm64)$")
    set(${out} arm64 PARENT_SCOPE)
  elseif(p MATCHES "^arm")
    set(${out} armhf PARENT_SCOPE)
  else()
    message(FATAL_ERROR "tflstm: no TFLite build recipe for processor '${p}' (amd64, arm64 and armhf are supported)")
  endif()
endfunction()

# Builds a third-party recipe (third_party/<recipe>: a CMake project over the sources that
# fetch.py unpacks from <lock>) into a prefix under the cache, once: the prefix is keyed by
# everything that changes its bits (`flags`, the compilers, the toolchain, the recipe's `files`
# under third_party/). `compilers`: a native build's C and C++ compilers when not this project's
# (empty: this project's), so that builds with other compilers share the prefix.
function(_tflstm_build_prefix prefix_out recipe lock flags compilers files)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  if(CMAKE_TOOLCHAIN_FILE)  # the nested build runs elsewhere: it needs the absolute path
    file(REAL_PATH "${CMAKE_TOOLCHAIN_FILE}" CMAKE_TOOLCHAIN_FILE BASE_DIRECTORY "${CMAKE_SOURCE_DIR}")
  endif()
  _tflstm_debian_arch(arch)
  set(dir "${PROJECT_SOURCE_DIR}/third_party")
  set(pass_compilers CMAKE_C_COMPILER CMAKE_CXX_COMPILER)
  if(compilers AND NOT CMAKE_CROSSCOMPILING)
    list(GET compilers 0 CC)
    list(GET compilers 1 CXX)
    execute_process(COMMAND "${CXX}" --version OUTPUT_VARIABLE version ERROR_QUIET)
    string(REGEX MATCH "^[^\n]*" version "${version}")
    set(pass_compilers CC CXX)
    set(key_text "${arch};${flags};${compilers};${version}")
  else()
    set(key_text "${arch};${flags};${CMAKE_CXX_COMPILER_ID};${CMAKE_CXX_COMPILER_VERSION}")
  endif()
  if(CMAKE_TOOLCHAIN_FILE)  # by content: the same toolchain in another checkout shares the prefix
    file(SHA256 "${CMAKE_TOOLCHAIN_FILE}" h)
    string(APPEND key_text ";${h}")
  endif()
  foreach(f ${files})
    file(SHA256 "${dir}/${f}" h)
    string(APPEND key_text ";${h}")
  endforeach()
  string(SHA256 key "${key_text}")
  string(SUBSTRING "${key}" 0 12 key)
  set(name "${arch}-${TFLSTM_ISA}-${key}")
  string(REPLACE "+" "_" name "${name}")
  set(prefix "${TFLSTM_CACHE_DIR}/${recipe}/${name}")
  set(${prefix_out} "${prefix}" PARENT_SCOPE)
  if(EXISTS "${prefix}/.complete")
    return()
  endif()

  # Another configure (a pip build next to a test build) may be building the same prefix.
  file(MAKE_DIRECTORY "${TFLSTM_CACHE_DIR}/${recipe}")
  file(LOCK "${TFLSTM_CACHE_DIR}/${recipe}/${name}.lock" TIMEOUT 3600)
  if(EXISTS "${prefix}/.complete")
    file(LOCK "${TFLSTM_CACHE_DIR}/${recipe}/${name}.lock" RELEASE)
    return()
  endif()

  message(STATUS "tflstm: fetching the sources of ${recipe} (${arch})")
  execute_process(
    COMMAND "${Python3_EXECUTABLE}" "${dir}/fetch.py" --arch ${arch} --cache "${TFLSTM_CACHE_DIR}" --lock "${dir}/${lock}"
    OUTPUT_VARIABLE sources OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tflstm: fetching the sources of ${recipe} failed (see the message above)")
  endif()

  set(build "${TFLSTM_CACHE_DIR}/build/${name}")
  # A build folder here is one an interrupted build left (perhaps another checkout's, whose
  # cache names its source folder): start afresh; ccache keeps what it compiled.
  file(REMOVE_RECURSE "${build}")
  file(MAKE_DIRECTORY "${TFLSTM_CACHE_DIR}/build")
  set(args -G "${CMAKE_GENERATOR}" -Wno-dev
    -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_INSTALL_PREFIX=${prefix}
    -DCMAKE_POLICY_VERSION_MINIMUM=3.5
    -DCMAKE_POLICY_DEFAULT_CMP0169=OLD
    -DTFLSTM_SOURCES=${sources}
    -DTFLSTM_RUY_ARCH=${arch}
    "-DCMAKE_C_FLAGS=${flags}"
    "-DCMAKE_CXX_FLAGS=${flags}")
  if(pass_compilers STREQUAL "CC;CXX")
    list(APPEND args "-DCMAKE_C_COMPILER=${CC}" "-DCMAKE_CXX_COMPILER=${CXX}")
    set(pass_compilers "")
  endif()
  foreach(var CMAKE_TOOLCHAIN_FILE ${pass_compilers} CMAKE_MAKE_PROGRAM
              CMAKE_C_COMPILER_LAUNCHER CMAKE_CXX_COMPILER_LAUNCHER CMAKE_CROSSCOMPILING_EMULATOR)
    if(${var})
      list(APPEND args "-D${var}=${${var}}")
    endif()
  endforeach()
  cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
  message(STATUS "tflstm: building ${recipe} into ${prefix} (a few minutes, once)")
  string(TIMESTAMP t0 "%s")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${dir}/${recipe}" -B "${build}" ${args}
    OUTPUT_FILE "${build}.configure.log" ERROR_FILE "${build}.configure.log" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tflstm: configuring ${recipe} failed; see ${build}.configure.log")
  endif()
  # ccache hashes paths relative to the cache root, so a new build folder still hits.
  # The build's progress lines are shown as they come, and kept in a log.
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env "CCACHE_BASEDIR=${TFLSTM_CACHE_DIR}"
                          "${CMAKE_COMMAND}" --build "${build}" --target install --parallel ${jobs}
    OUTPUT_VARIABLE log ERROR_VARIABLE log ECHO_OUTPUT_VARIABLE ECHO_ERROR_VARIABLE RESULT_VARIABLE rc)
  file(WRITE "${build}.build.log" "${log}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tflstm: building ${recipe} failed; see ${build}.build.log")
  endif()
  string(TIMESTAMP t1 "%s")
  math(EXPR secs "${t1} - ${t0}")
  file(WRITE "${prefix}/.complete" "built in ${secs} s\n")
  file(LOCK "${TFLSTM_CACHE_DIR}/${recipe}/${name}.lock" RELEASE)
  message(STATUS "tflstm: ${recipe} built in ${secs} s")
endfunction()

# Third-party code is compiled without warnings (they are not ours to fix, and thousands of
# them would bury the progress lines), with one section per function so that a link with
# --gc-sections keeps only the kernels a program registers.
set(_tflstm_third_party_flags "-w -ffunction-sections -fdata-sections ${TFLSTM_ARCH_FLAGS_STRING}")
if(TFLSTM_TFLITE_PREFIX)
  set(TFLSTM_TFLITE_PREFIX_DIR "${TFLSTM_TFLITE_PREFIX}")
else()
  set(flags "${_tflstm_third_party_flags}")
  if(TFLSTM_TFLITE_SANITIZE)  # a bad read inside a kernel is then reported where it happens
    string(APPEND flags " -fsanitize=${TFLSTM_TFLITE_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer")
    if(TFLSTM_TFLITE_SANITIZE MATCHES "undefined")
      # TFLite's own arithmetic UB, reported by the first sanitized run and none a memory error:
      # int32 overflow in ADD/MUL on large values, left shifts of negative values (NEON_2_SSE;
      # defined since C++20), float->int out of range in the hybrid input quantization and the
      # quantized multiplier of extreme scales. Left out so that the fuzzer reaches the rest.
      string(APPEND flags " -fno-sanitize=shift-base,signed-integer-overflow,float-cast-overflow")
    endif()
  endif()
  _tflstm_build_prefix(TFLSTM_TFLITE_PREFIX_DIR tflite sources.lock "${flags}" ""
    "sources.lock;tflite/CMakeLists.txt;tflite/merge_archives.cmake;tflite/glibc_compat.c;tflite/tflstm-tflite-config.cmake.in;tflite/ruy_without_neon/ruy/platform.h")
endif()
# Not the cached location of an earlier configure: the prefix changes with the recipe.
unset(tflstm-tflite_DIR CACHE)
find_package(tflstm-tflite CONFIG REQUIRED PATHS "${TFLSTM_TFLITE_PREFIX_DIR}/lib/cmake/tflstm-tflite" NO_DEFAULT_PATH
             NO_CMAKE_FIND_ROOT_PATH)  # the prefix is on the build machine, not in the target sysroot
message(STATUS "tflstm: TFLite ${TFLSTM_TFLITE_VERSION} from ${TFLSTM_TFLITE_PREFIX_DIR}")

# XNNPACK (Debian's 2024-11 snapshot) runs the ops around the LSTM (cpp/src/xnnpack). It is built
# once per architecture and instruction set, without sanitizers, so the native, fuzz and tsan
# builds share one prefix: natively by the machine's GCC whatever this project's compiler is.
# On x86 GCC schedules for register pressure before allocating (-fschedule-insns
# -fsched-pressure): without it GCC 12 keeps an accumulator of the f32 GEMM microkernels on the
# stack (DS-CNN float32 ran at twice tf.lite's time); clang 14 compiles those well but the int8
# GEMMs 1.4-2x slower than GCC (tflstm_benchmark medians, AVX2). OFF: TFLite's kernels run the ops.
option(TFLSTM_XNNPACK "Run CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and the like on XNNPACK" ON)
set(TFLSTM_XNNPACK_PREFIX "" CACHE PATH "Prefix of an already built tflstm-xnnpack (empty: build it in the cache)")
if(TFLSTM_XNNPACK)
  if(TFLSTM_XNNPACK_PREFIX)
    set(TFLSTM_XNNPACK_PREFIX_DIR "${TFLSTM_XNNPACK_PREFIX}")
  else()
    find_program(TFLSTM_XNNPACK_GCC NAMES gcc DOC "C compiler of a native XNNPACK build")
    find_program(TFLSTM_XNNPACK_GXX NAMES g++ DOC "C++ compiler of a native XNNPACK build")
    set(compilers "")
    if(TFLSTM_XNNPACK_GCC AND TFLSTM_XNNPACK_GXX)
      set(compilers "${TFLSTM_XNNPACK_GCC};${TFLSTM_XNNPACK_GXX}")
    endif()
    set(flags "${_tflstm_third_party_flags}")
    _tflstm_debian_arch(arch)
    if(arch STREQUAL "amd64" AND (compilers OR CMAKE_C_COMPILER_ID STREQUAL "GNU"))
      string(APPEND flags " -fschedule-insns -fsched-pressure")
    endif()
    _tflstm_build_prefix(TFLSTM_XNNPACK_PREFIX_DIR xnnpack xnnpack.lock "${flags}" "${compilers}"
                         "xnnpack.lock;xnnpack/CMakeLists.txt;tflite/merge_archives.cmake")
  endif()
  unset(tflstm-xnnpack_DIR CACHE)
  find_package(tflstm-xnnpack CONFIG REQUIRED PATHS "${TFLSTM_XNNPACK_PREFIX_DIR}/lib/cmake/tflstm-xnnpack"
               NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
  message(STATUS "tflstm: XNNPACK from ${TFLSTM_XNNPACK_PREFIX_DIR}")
endif()
