/* Body of nonfinite.h for one type CNET_T (see float_kinds.h). v * 0 is 0
 * for every finite v and NaN otherwise; the products are summed in 8
 * independent lanes that the compiler vectorises (one lane's chain of adds
 * would run at the latency of an add). */
CNET_INLINE int CNET_SFX(cnet_any_nonfinite)(size_t n, const CNET_T *v)
{
    CNET_T lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t k;
    int l;
    for (k = 0; k + 8 <= n; k += 8)
        for (l = 0; l < 8; l++)
            lane[l] += v[k + l] * (CNET_T)0;
    for (; k < n; k++)
        lane[0] += v[k] * (CNET_T)0;
    for (l = 1; l < 8; l++)
        lane[0] += lane[l];
    return lane[0] != lane[0];
}
