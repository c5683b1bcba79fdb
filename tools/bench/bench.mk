# tools/bench/bench.mk: `make bench`, kmemscope's overhead benchmark (issue 7).
# Included by the top-level Makefile; uses its OUT, CC, CLANG, BPFTOOL, flags.
#   make bench                          # every mode, table + $(OUT)/bench.json
#   make bench BENCH_ARGS="--quick"     # fewer, shorter runs (development)
#   make bench-profile                  # BPF run-time stats per program, perf
#   make bench-tools                    # only build the workloads and the floor
#   make bench-realistic                # only nginx+wrk and a parallel build, untraced
#                                       # against agent and top (tools/bench/realistic)
#   make bench SOAK=1800                # also the agent's RSS over a 30-minute soak
#   make bench-soak SOAK=300            # only the soak (default 1800 s)
# Everything lands under $(OUT)/bench; tools/bench/run --help for the knobs.

BENCH_DIR  := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BENCH_OUT  := $(OUT)/bench
BENCH_BINS := $(BENCH_OUT)/kms-workload $(BENCH_OUT)/kms-floor
BENCH_ARGS ?=
BENCH_RUN   = $(BENCH_DIR)/run --kmemscope $(OUT)/kmemscope --bin $(BENCH_OUT)
# the realistic workloads (issue 18): nginx+wrk, make -j2; SOAK=SECONDS adds the soak
BENCH_REAL_ARGS ?=
SOAK ?=
BENCH_REAL  = tools/deps bench && $(BENCH_DIR)/realistic --kmemscope $(OUT)/kmemscope --bin $(BENCH_OUT) \
	      --json $(OUT)/bench-realistic.json

.PHONY: bench bench-tools bench-profile bench-clean bench-realistic bench-soak

bench: $(OUT)/kmemscope $(BENCH_BINS)
	$(Q)$(BENCH_RUN) --json $(OUT)/bench.json $(BENCH_ARGS)
	$(Q)$(BENCH_REAL) $(if $(SOAK),--soak $(SOAK)) $(BENCH_REAL_ARGS)

bench-realistic: $(OUT)/kmemscope $(BENCH_BINS)
	$(Q)$(BENCH_REAL) $(if $(SOAK),--soak $(SOAK)) $(BENCH_REAL_ARGS)

bench-soak: $(OUT)/kmemscope $(BENCH_BINS)
	$(Q)$(BENCH_REAL) --workloads "" --soak $(or $(SOAK),1800) $(BENCH_REAL_ARGS)

bench-profile: $(OUT)/kmemscope $(BENCH_BINS)
	$(Q)$(BENCH_RUN) --profile-only --json $(OUT)/bench-profile.json $(BENCH_ARGS)

bench-tools: $(BENCH_BINS)

$(BENCH_OUT)/kms-workload: $(BENCH_DIR)/workload.c | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE $(DEPFLAGS) -o $@ $<

$(BENCH_OUT)/floor.tmp.bpf.o: $(BENCH_DIR)/floor.bpf.c | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -I$(BENCH_DIR) $(DEPFLAGS) -c $< -o $@

$(BENCH_OUT)/floor.bpf.o: $(BENCH_OUT)/floor.tmp.bpf.o
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BENCH_OUT)/floor.skel.h: $(BENCH_OUT)/floor.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@

$(BENCH_OUT)/kms-floor: $(BENCH_DIR)/floor.c $(BENCH_OUT)/floor.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -I$(BENCH_OUT) -I$(BENCH_DIR) -Iinclude $(DEPFLAGS) \
		-o $@ $< $(LDLIBS)

$(BENCH_OUT):
	$(Q)mkdir -p $@

bench-clean:
	$(Q)rm -rf $(BENCH_OUT) $(OUT)/bench.json $(OUT)/bench-profile.json $(OUT)/bench-realistic.json

-include $(wildcard $(BENCH_OUT)/*.d)
