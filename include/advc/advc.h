/* advc/advc.h: everything public in one include.  Each floor has its own
 * header; a lower floor never includes a higher one. */
#ifndef ADVC_ADVC_H
#define ADVC_ADVC_H
#include "advc/core.h"
#include "advc/param.h"
#include "advc/kernels.h"
#include "advc/data.h"
#include "advc/io.h"
#include "advc/nn.h"
#include "advc/loss.h"
#include "advc/optim.h"
#include "advc/checkpoint.h"
#include "advc/models.h"
#include "advc/npy.h"
#include "advc/image.h"
#include "advc/attack.h"
#include "advc/train.h"
#include "advc/evaluate.h"
#endif
