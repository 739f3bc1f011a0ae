#include <wcslib/wcslib.h>
#include <wcslib/wcshdr.h>
#include <wcslib/wcsfix.h>
