"""The CUDA loop of the fused op: cuBLAS products and Triton kernels (:mod:`.runner`,
:mod:`.kernels`). The kernels module imports ``triton``; this package does not."""
