# C declarations shared by every compiled module of cnet.
cdef extern from "config.h" nogil:
    int cnet_get_num_threads()
    int cnet_max_threads()
    void cnet_set_num_threads(int n)
    int cnet_threads_for(size_t n, size_t min_per_thread)
    int cnet_openmp_enabled()
    const char *cnet_compiler()
    const char *cnet_dispatch_paths()
