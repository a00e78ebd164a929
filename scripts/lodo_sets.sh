# The ten bench-dev sets of the leave-one-dataset-out protocol (README, "Ten sets"), as the array
# SETS under the folder $B; sourced by the scripts that run the protocol.
SETS=("$B/frank.jsonl" "$B/polytope.jsonl" "$B/cliff.jsonl" "$B/summedits.jsonl" "$B/goyal21.jsonl"
      "$B/cao22_entfa.jsonl" "$B/xsumfaith.jsonl" "$B/cogensumm_sentpairs.jsonl"
      "$B/llm_ramprasad24.jsonl" "$B/llm_severity.jsonl")
