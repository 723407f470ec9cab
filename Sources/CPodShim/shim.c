#include "CPodShim.h"
