# Cross-compiling for 32-bit ARM Linux as on 32-bit Raspberry Pi OS: ARMv7-A, NEON/VFPv4, hard float
# (CMakeLists.txt sets -march and -mfpu; see TFLSTM_ARMHF_FPU there).
# Programs run here under qemu-user.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(TFLSTM_TRIPLE arm-linux-gnueabihf)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
