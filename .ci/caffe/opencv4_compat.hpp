// Force-included into every Caffe source by .ci/caffe/CMakeLists.txt.
//
// This Caffe tree still uses OpenCV 1.x/2.x C-API constants (CV_LOAD_IMAGE_COLOR,
// CV_BGR2GRAY, CV_FILLED, CV_CAP_PROP_FRAME_COUNT, CV_FOURCC, ...) that
// OpenCV 4 no longer pulls in through the C++ headers.  OpenCV 4 still ships
// them in its legacy C headers; include those so the sources build unchanged.
#ifndef CAFFELINT_OPENCV4_COMPAT_HPP_
#define CAFFELINT_OPENCV4_COMPAT_HPP_
#ifdef USE_OPENCV
#include <opencv2/core/version.hpp>
#if CV_VERSION_MAJOR >= 4
#include <opencv2/imgproc/imgproc_c.h>
#include <opencv2/imgcodecs/legacy/constants_c.h>
#include <opencv2/videoio/legacy/constants_c.h>
#endif
#endif
#endif  // CAFFELINT_OPENCV4_COMPAT_HPP_
