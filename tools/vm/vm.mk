# tools/vm/vm.mk: the QEMU kernel matrix. Included by the top-level Makefile.
#   make vm-test                    # all kernels: 5.10 6.1 6.12 sid
#   make vm-test KERNELS="6.1 6.12" # some of them
#   make vm-kernels                 # only fetch kernel images and headers
# Knobs (environment or command line): VM_TIMEOUT=600 (s per guest),
# VM_RUNNER=qemu|vng, VM_ACCEL=tcg|kvm, OUT=dir (the build directory of the
# static tracer, as for the top-level Makefile: make vm-test OUT=build-vm).
# Details: tools/vm/README.md.

VM_DIR  := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
KERNELS ?= 5.10 6.1 6.12 sid

.PHONY: vm-test vm-kernels

vm-test:
	$(MAKE) static $(OUT)/kmemscope
	KMEMSCOPE=$(abspath $(OUT))/kmemscope.static $(VM_DIR)/vm-test.sh $(KERNELS)

vm-kernels:
	$(VM_DIR)/fetch-kernel.sh $(KERNELS)
