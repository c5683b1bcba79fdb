# Fuzzing the recording reader (libFuzzer, ASan + UBSan, clang).
#   make -f tools/fuzz.mk fuzz              # long run: FUZZ_TIME seconds (default 600)
#   make -f tools/fuzz.mk fuzz-short        # bounded run for the test suite (60 s)
#   make -f tools/fuzz.mk fuzz FUZZ_TIME=3600 FUZZ_JOBS=2
# Also included by the Makefile when present (then plain `make fuzz` works).
# Crashes land in $(FUZZ_OUT)/crash-*; the corpus grows in $(FUZZ_OUT)/corpus.

OUT        ?= build
FUZZ_CC    ?= clang
FUZZ_OUT   ?= $(OUT)/fuzz
FUZZ_TIME  ?= 600
FUZZ_SHORT ?= 60
FUZZ_JOBS  ?= 1
# CRCs are skipped in this build (see crc_ok() in user/record/recfile.c): mutations must
# reach the parsers behind them, not die at the checksum.
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	      -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -D_GNU_SOURCE -Iinclude $(addprefix -I,$(wildcard user/*)) -Wall -Wextra -Werror -Wno-unused-parameter
FUZZ_SEEDS := tests/fuzz/recfile

.PHONY: fuzz fuzz-short fuzz-build

fuzz-build: $(FUZZ_OUT)/fuzz_recfile

$(FUZZ_OUT)/fuzz_recfile: tests/unit/fuzz_recfile.c user/record/recfile.c user/record/recfile.h include/kms_records.h
	@mkdir -p $(FUZZ_OUT)/corpus
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/unit/fuzz_recfile.c user/record/recfile.c -lz

# -max_len: the seeds are real recordings of up to ~16 KiB.
fuzz: $(FUZZ_OUT)/fuzz_recfile
	cd $(FUZZ_OUT) && $(abspath $<) -max_total_time=$(FUZZ_TIME) $(if $(filter-out 1,$(FUZZ_JOBS)),-jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS)) \
	   -max_len=65536 -artifact_prefix=./ -print_final_stats=1 corpus $(abspath $(FUZZ_SEEDS))

fuzz-short: $(FUZZ_OUT)/fuzz_recfile
	$< -max_total_time=$(FUZZ_SHORT) -max_len=65536 -artifact_prefix=$(FUZZ_OUT)/ \
	   -print_final_stats=1 $(FUZZ_OUT)/corpus $(FUZZ_SEEDS)
