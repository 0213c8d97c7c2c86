# Cross-compiling for 64-bit ARM Linux (ARMv8-A: Raspberry Pi 3/4/5 64-bit, i.MX8) with
# Debian's g++-aarch64-linux-gnu. Programs run here under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(TFLSTM_TRIPLE aarch64-linux-gnu)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
