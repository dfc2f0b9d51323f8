#include "GoMallocExports.h"
