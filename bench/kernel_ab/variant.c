/* One variant of the TwoLayerNet kernels for kernel_ab: csrc/two_layer.c
 * compiled with its public names prefixed by VARIANT (A or B), so that two
 * versions of the kernels link into one program. */
#define KAB_CAT2(a, b) a##b
#define KAB_CAT(a, b) KAB_CAT2(a, b)
#define tl_gradient_xf_wd KAB_CAT(VARIANT, _gradient_xf_wd)
#define tl_loss_xf_wd KAB_CAT(VARIANT, _loss_xf_wd)
#define tl_correct_xf_wd KAB_CAT(VARIANT, _correct_xf_wd)
#define tl_predict_xf_wd KAB_CAT(VARIANT, _predict_xf_wd)
#define tl_gradient_scratch_xf_wd KAB_CAT(VARIANT, _gradient_scratch_xf_wd)
#define tl_forward_scratch_xf_wd KAB_CAT(VARIANT, _forward_scratch_xf_wd)
#define tl_gradient_xf_wf KAB_CAT(VARIANT, _gradient_xf_wf)
#define tl_loss_xf_wf KAB_CAT(VARIANT, _loss_xf_wf)
#define tl_correct_xf_wf KAB_CAT(VARIANT, _correct_xf_wf)
#define tl_predict_xf_wf KAB_CAT(VARIANT, _predict_xf_wf)
#define tl_gradient_scratch_xf_wf KAB_CAT(VARIANT, _gradient_scratch_xf_wf)
#define tl_forward_scratch_xf_wf KAB_CAT(VARIANT, _forward_scratch_xf_wf)
#define tl_gradient_xd_wd KAB_CAT(VARIANT, _gradient_xd_wd)
#define tl_loss_xd_wd KAB_CAT(VARIANT, _loss_xd_wd)
#define tl_correct_xd_wd KAB_CAT(VARIANT, _correct_xd_wd)
#define tl_predict_xd_wd KAB_CAT(VARIANT, _predict_xd_wd)
#define tl_gradient_scratch_xd_wd KAB_CAT(VARIANT, _gradient_scratch_xd_wd)
#define tl_forward_scratch_xd_wd KAB_CAT(VARIANT, _forward_scratch_xd_wd)
#include "two_layer.c"
