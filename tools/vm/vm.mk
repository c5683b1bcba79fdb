# tools/vm/vm.mk: the QEMU kernel matrix. Included by the top-level Makefile.
#   make vm-test                    # all kernels: 5.10 6.1 6.12 sid arm64-6.1 arm64-6.12 arm64-sid
#   make vm-test KERNELS="6.1 6.12" # some of them
#   make vm-kernels                 # only fetch kernel images and headers
#   make vm-test KERNELS=6.12:vng   # 6.12 under virtme-ng (or VM_RUNNER=vng)
#   make vm-check, vm-check-all     # the matrices of make check and make check-all
#   make vm-unit                    # kmemscope-agent.service under systemd (6.12 guest)
# Knobs (environment or command line): VM_TIMEOUT=600 (s per guest; 1200 under vng and for arm64),
# VM_RUNNER=qemu|vng, VM_ACCEL=tcg|kvm, OUT=dir (the build directory of the
# static tracer, as for the top-level Makefile: make vm-test OUT=build-vm).
# Details: tools/vm/README.md.

VM_DIR  := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
KERNELS ?= 5.10 6.1 6.12 sid arm64-6.1 arm64-6.12 arm64-sid
# K:vng boots K under virtme-ng instead of plain QEMU (tools/vm/README.md).
# make check (every submission) boots each kernel once, CHECK_VNG under vng,
# and of the arm64 guests (plain QEMU only) CHECK_ARM64, first: the longest
# guest (about 4.5 min under TCG) starts at once, beside the x86 ones;
# make check-all boots every kernel, the x86 ones under both runners.
# CHECK_ARM64 is bookworm's 6.12 (arm64-sid and arm64-6.1 in check-all).
CHECK_VNG ?= 6.1
CHECK_ARM64 ?= arm64-6.12
CHECK_KERNELS ?= $(filter $(CHECK_ARM64),$(KERNELS)) \
		 $(foreach k,$(filter-out arm64-%,$(KERNELS)),$(if $(filter $(k),$(CHECK_VNG)),$(k):vng,$(k)))
CHECK_ALL_KERNELS ?= $(KERNELS) $(addsuffix :vng,$(filter-out arm64-%,$(KERNELS)))

.PHONY: vm-test vm-kernels vm-check vm-check-all vm-unit

# arm64-* kernels boot the cross build (make ARCH=arm64 static, in $(OUT)/arm64);
# the recordings they make are read back by the host's $(OUT)/kmemscope.
ARM64_KERNELS = $(filter arm64-%,$(foreach k,$(KERNELS),$(firstword $(subst :, ,$(k)))))

vm-test:
	$(MAKE) static $(OUT)/kmemscope
	$(if $(ARM64_KERNELS),$(MAKE) ARCH=arm64 OUT=$(OUT)/arm64 static)
	KMEMSCOPE=$(abspath $(OUT))/kmemscope.static KMEMSCOPE_ARM64=$(abspath $(OUT))/arm64/kmemscope.static \
		$(VM_DIR)/vm-test.sh $(KERNELS)

vm-check:
	$(MAKE) vm-test KERNELS="$(CHECK_KERNELS)"

vm-check-all:
	$(MAKE) vm-test KERNELS="$(CHECK_ALL_KERNELS)"

vm-kernels:
	$(VM_DIR)/fetch-kernel.sh $(KERNELS)

# The shipped kmemscope-agent.service under a real systemd: a guest of
# UNIT_KERNEL whose init is systemd, kmemscope installed with make install
# (tools/vm/run-unit.sh; 2-4.5 minutes here). make check runs it (tests/run systemd).
UNIT_KERNEL ?= 6.12
vm-unit:
	OUT=$(OUT) $(VM_DIR)/run-unit.sh $(UNIT_KERNEL)
