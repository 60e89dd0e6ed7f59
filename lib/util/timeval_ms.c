/* Milliseconds as a struct timeval (see timeval_ms.h). */
#include "timeval_ms.h"

struct timeval timeval_from_ms(uint64_t ms)
{
	return (struct timeval){.tv_sec = (time_t)(ms / 1000),
	                        .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}
