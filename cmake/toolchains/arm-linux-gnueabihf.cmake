# Cross-compiling for 32-bit ARM Linux as on 32-bit Raspberry Pi OS: ARMv7-A with NEON and
# VFPv4, hard float (CMakeLists.txt adds -mfpu=neon-vfpv4, which Debian's armhf baseline lacks,
# so that TFLite's NEON kernels are compiled in). Programs run here under qemu-user.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(TFLSTM_TRIPLE arm-linux-gnueabihf)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
