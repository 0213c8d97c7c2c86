// ruy's platform header, seen without NEON. Debian's armhf ruy library was compiled for the
// armhf baseline, which has no NEON. When TFLite is compiled with NEON, ruy's headers would
// otherwise select NEON paths and TFLite would call NEON kernels the library does not contain
// (the link fails). Only ruy's own decision is hidden: TFLite's NEON kernels stay on.
#pragma push_macro("__ARM_NEON")
#pragma push_macro("__ARM_NEON__")
#undef __ARM_NEON
#undef __ARM_NEON__
#include_next <ruy/platform.h>
#pragma pop_macro("__ARM_NEON__")
#pragma pop_macro("__ARM_NEON")
