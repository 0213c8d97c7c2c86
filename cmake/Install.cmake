# `cmake --install`: headers (tflstm's, and the TFLite and flatbuffers headers that tflstm/tflite/*.h
# and a selective op set include), the
# static libraries, and a package config, so that find_package(tflstm) and
# target_link_libraries(app tflstm::tflstm) work in another project, as does a selective build
# with tflstm_select_ops(app OPS_FILES ops.txt).
include(CMakePackageConfigHelpers)
install(TARGETS tflstm tflstm_core tflstm_lstm_kernel tflstm_node_kernel tflstm_all_ops tflstm_op_support EXPORT tflstmTargets ARCHIVE DESTINATION lib)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/cpp/include/" DESTINATION include)
install(DIRECTORY "${TFLSTM_TFLITE_PREFIX_DIR}/include/" DESTINATION include)
install(FILES "${TFLSTM_TFLITE_PREFIX_DIR}/lib/libtflstm_tflite.a" DESTINATION lib)
install(FILES "${TFLSTM_TFLITE_PREFIX_DIR}/lib/cmake/tflstm-tflite/tflstm-tflite-config.cmake"
        DESTINATION lib/cmake/tflstm-tflite)
if(TFLSTM_XNNPACK)  # tflstm's XNNPACK kernels and XNNPACK itself (cmake/TFLite.cmake)
  install(TARGETS tflstm_xnnpack_kernels EXPORT tflstmTargets ARCHIVE DESTINATION lib)
  install(FILES "${TFLSTM_XNNPACK_PREFIX_DIR}/lib/libtflstm_xnnpack.a" DESTINATION lib)
  install(DIRECTORY "${TFLSTM_XNNPACK_PREFIX_DIR}/include/" DESTINATION include)
  install(FILES "${TFLSTM_XNNPACK_PREFIX_DIR}/lib/cmake/tflstm-xnnpack/tflstm-xnnpack-config.cmake"
          DESTINATION lib/cmake/tflstm-xnnpack)
endif()
install(EXPORT tflstmTargets NAMESPACE tflstm:: DESTINATION lib/cmake/tflstm)
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/tflstmConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/tflstmConfig.cmake" INSTALL_DESTINATION lib/cmake/tflstm)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/tflstmConfigVersion.cmake" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/tflstmConfig.cmake" "${PROJECT_BINARY_DIR}/tflstmConfigVersion.cmake"
        DESTINATION lib/cmake/tflstm)
install(FILES "${PROJECT_SOURCE_DIR}/cmake/SelectOps.cmake" DESTINATION lib/cmake/tflstm RENAME tflstmSelectOps.cmake)
