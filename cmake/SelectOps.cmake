# tflstm_select_ops(<target> [XNNPACK] [OPS_FILES <file>...] [OPS <op>...])
#
# A selective build: links <target> with tflstm::core and an op set that registers only the
# named TFLite builtin ops, each with the versions TFLite's own resolver gives it, so that the
# linker leaves every other kernel out, and each with the newer versions that tflstm runs on the
# same kernel (cpp/src/op_versions.cc). An ops file holds one op per line with an optional
# version, as `tflstm inspect --ops MODEL...` prints them; `#` starts a comment. A name that is
# not a builtin op, or a version newer than TFLite's kernel, stops the configure. At run time a
# model that needs an op left out is refused with kUnsupportedOp, naming the op. XNNPACK: the
# selected ops that tflstm runs on XNNPACK (CONV_2D, FULLY_CONNECTED, ...) do so, as in the full
# build; without it they run on TFLite's kernels, and the program is smaller.
set(_TFLSTM_XNNPACK_KERNELS CONV_2D:Conv2dKernel DEPTHWISE_CONV_2D:DepthwiseConv2dKernel
    FULLY_CONNECTED:FullyConnectedKernel AVERAGE_POOL_2D:AveragePool2dKernel MAX_POOL_2D:MaxPool2dKernel
    SOFTMAX:SoftmaxKernel MEAN:MeanKernel BATCH_MATMUL:BatchMatMulKernel TRANSPOSE:TransposeKernel ADD:AddKernel
    SUB:SubKernel MUL:MulKernel SPLIT:SplitKernel SPLIT_V:SplitVKernel
    EQUAL:EqualKernel NOT_EQUAL:NotEqualKernel)
function(tflstm_select_ops target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "XNNPACK" "" "OPS_FILES;OPS")
  # The newest version of each op that cpp/src/op_versions.cc lists beyond TFLite 2.14.1's.
  set(_tflstm_newer_op_versions
      ADD:6 CAST:8 CONCATENATION:5 CONV_2D:8 DEQUANTIZE:8 DYNAMIC_UPDATE_SLICE:6 EMBEDDING_LOOKUP:5 EQUAL:5
      FULLY_CONNECTED:14 GATHER:7 GATHER_ND:5 LOG:2 MUL:8 NOT_EQUAL:4 PAD:5 PADV2:5 QUANTIZE:5 RSQRT:3 SLICE:7
      SQRT:2 TRANSPOSE:8 TRANSPOSE_CONV:5 UNIDIRECTIONAL_SEQUENCE_LSTM:5 UNPACK:5)
  if(arg_XNNPACK AND NOT TARGET tflstm::xnnpack_kernels)
    message(FATAL_ERROR "tflstm_select_ops(${target} XNNPACK): this tflstm was built without XNNPACK (TFLSTM_XNNPACK=OFF)")
  endif()
  if(arg_UNPARSED_ARGUMENTS OR NOT TARGET ${target})
    message(FATAL_ERROR "usage: tflstm_select_ops(<existing target> [OPS_FILES <file>...] [OPS <op>...])")
  endif()
  if(NOT TFLSTM_TFLITE_BUILTIN_OPS)
    message(FATAL_ERROR "tflstm_select_ops: TFLite's op table is missing (find_package(tflstm) first)")
  endif()

  # Each request as NAME|VERSION|where it came from (0: any version).
  set(requests "")
  foreach(op IN LISTS arg_OPS)
    list(APPEND requests "${op}|0|OPS argument")
  endforeach()
  foreach(file IN LISTS arg_OPS_FILES)
    get_filename_component(file "${file}" ABSOLUTE)
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "tflstm_select_ops: no ops file '${file}'")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
    file(STRINGS "${file}" lines)
    set(line_no 0)
    foreach(line IN LISTS lines)
      math(EXPR line_no "${line_no} + 1")
      string(REGEX REPLACE "#.*" "" line "${line}")
      string(STRIP "${line}" line)
      if(line STREQUAL "")
        continue()
      elseif(NOT line MATCHES "^([A-Z0-9_]+)([ \t]+v?([0-9]+))?$")
        message(FATAL_ERROR "${file}:${line_no}: expected an op name and an optional version, got '${line}'")
      endif()
      set(version 0)
      if(CMAKE_MATCH_3)
        set(version ${CMAKE_MATCH_3})
      endif()
      list(APPEND requests "${CMAKE_MATCH_1}|${version}|${file}:${line_no}")
    endforeach()
  endforeach()
  if(NOT requests)
    message(FATAL_ERROR "tflstm_select_ops(${target}): no ops given")
  endif()

  set(names "")
  set(registrations "")
  set(xnnpack_declarations "")
  foreach(request IN LISTS requests)
    string(REPLACE "|" ";" request "${request}")
    list(GET request 0 name)
    list(GET request 1 version)
    list(GET request 2 where)
    # TFLite's register.cc names its control-flow kernels with their namespace, which the
    # prefix's op table (read from it) leaves out: they are builtin ops of version 1.
    set(entry "${TFLSTM_TFLITE_BUILTIN_OPS};CALL_ONCE:Register_CALL_ONCE:1:1;IF:Register_IF:1:1;WHILE:Register_WHILE:1:1")
    list(FILTER entry INCLUDE REGEX "^${name}:")
    if(NOT entry)
      message(FATAL_ERROR "${where}: '${name}' is not a builtin op of TFLite ${TFLSTM_TFLITE_VERSION}; "
                          "only builtin ops can be selected")
    endif()
    string(REPLACE ":" ";" entry "${entry}")
    list(GET entry 1 kernel)
    list(GET entry 2 min_version)
    list(GET entry 3 max_version)
    # Newer versions of later converters that run on TFLite's kernel (cpp/src/op_versions.cc).
    set(newest ${max_version})
    foreach(newer IN LISTS _tflstm_newer_op_versions)
      if(newer MATCHES "^${name}:([0-9]+)$")
        set(newest ${CMAKE_MATCH_1})
      endif()
    endforeach()
    if(version GREATER newest)
      message(FATAL_ERROR "${where}: ${name} version ${version} is newer than TFLite ${TFLSTM_TFLITE_VERSION} runs "
                          "(versions ${min_version} to ${newest})")
    endif()
    if(NOT name IN_LIST names)
      list(APPEND names ${name})
      string(APPEND registrations "  resolver->AddBuiltin(tflite::BuiltinOperator_${name}, "
                                  "tflite::ops::builtin::${kernel}(), ${min_version}, ${max_version});\n")
      if(name STREQUAL "UNIDIRECTIONAL_SEQUENCE_LSTM")  # tflstm's kernel over the builtin one
        string(APPEND registrations "  if (lstm_kernel == LstmKernel::kTflstm) AddTflstmLstmKernel(*resolver);\n")
      endif()
      set(xnn "${_TFLSTM_XNNPACK_KERNELS}")
      list(FILTER xnn INCLUDE REGEX "^${name}:")
      if(arg_XNNPACK AND xnn)
        string(REPLACE "${name}:" "" xnn "${xnn}")
        string(APPEND registrations "  xnn::AddOver(*resolver, tflite::BuiltinOperator_${name}, xnn::${xnn}());\n")
        string(APPEND xnnpack_declarations "const TfLiteRegistration* ${xnn}();\n")
      endif()
    endif()
  endforeach()
  list(JOIN names ", " description)
  set(description "TFLite ${TFLSTM_TFLITE_VERSION} selective build (${description})")

  set(xnnpack_include "")
  if(arg_XNNPACK)  # declared as cpp/src/xnnpack/xnn_ops.h has them
    set(xnnpack_include "\nnamespace tflstm::xnn {\nvoid AddOver(tflite::MutableOpResolver& resolver, tflite::BuiltinOperator op, const TfLiteRegistration* kernel);\n${xnnpack_declarations}}  // namespace tflstm::xnn\n")
    string(APPEND description " on XNNPACK")
  endif()
  set(source "${CMAKE_CURRENT_BINARY_DIR}/${target}_op_set.cc")
  file(CONFIGURE OUTPUT "${source}" @ONLY CONTENT [=[
// Generated by tflstm_select_ops(@target@): the op set of a selective build (tflstm/tflite/op_set.h).
#include "tensorflow/lite/kernels/builtin_op_kernels.h"
#include "tensorflow/lite/mutable_op_resolver.h"
#include "tflstm/tflite/op_set.h"
@xnnpack_include@
namespace tflstm {

std::unique_ptr<tflite::OpResolver> MakeOpResolver([[maybe_unused]] LstmKernel lstm_kernel) {
  auto resolver = std::make_unique<tflite::MutableOpResolver>();
@registrations@  CompleteOpSet(*resolver);
  return resolver;
}

const char* OpSetDescription() { return "@description@"; }

}  // namespace tflstm
]=])
  target_sources(${target} PRIVATE "${source}")
  target_link_libraries(${target} PRIVATE tflstm::core tflstm::lstm_kernel)
  if(arg_XNNPACK)
    target_link_libraries(${target} PRIVATE tflstm::xnnpack_kernels)
  endif()
endfunction()
