# tools/vm/vm.mk: the QEMU kernel matrix. Included by the top-level Makefile.
#   make vm-test                    # all kernels: 5.10 6.1 6.12 sid
#   make vm-test KERNELS="6.1 6.12" # some of them
#   make vm-kernels                 # only fetch kernel images and headers
#   make vm-test KERNELS=6.12:vng   # 6.12 under virtme-ng (or VM_RUNNER=vng)
#   make vm-check, vm-check-all     # the matrices of make check and make check-all
# Knobs (environment or command line): VM_TIMEOUT=600 (s per guest),
# VM_RUNNER=qemu|vng, VM_ACCEL=tcg|kvm, OUT=dir (the build directory of the
# static tracer, as for the top-level Makefile: make vm-test OUT=build-vm).
# Details: tools/vm/README.md.

VM_DIR  := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
KERNELS ?= 5.10 6.1 6.12 sid
# K:vng boots K under virtme-ng instead of plain QEMU (tools/vm/README.md).
# make check (every submission) boots each kernel once, CHECK_VNG under vng;
# make check-all boots every kernel under both runners.
CHECK_VNG ?= 6.1
CHECK_KERNELS ?= $(foreach k,$(KERNELS),$(if $(filter $(k),$(CHECK_VNG)),$(k):vng,$(k)))
CHECK_ALL_KERNELS ?= $(KERNELS) $(addsuffix :vng,$(KERNELS))

.PHONY: vm-test vm-kernels vm-check vm-check-all

vm-test:
	$(MAKE) static $(OUT)/kmemscope
	KMEMSCOPE=$(abspath $(OUT))/kmemscope.static $(VM_DIR)/vm-test.sh $(KERNELS)

vm-check:
	$(MAKE) vm-test KERNELS="$(CHECK_KERNELS)"

vm-check-all:
	$(MAKE) vm-test KERNELS="$(CHECK_ALL_KERNELS)"

vm-kernels:
	$(VM_DIR)/fetch-kernel.sh $(KERNELS)
