// Declarations only: the functions in flint_kernels_testing.h are defined in CKernels. SwiftPM needs one source
// file in a C target.
#include "flint_kernels_testing.h"
