// Counters in an offloaded array map: slot 0 counts packets, slot 1 bytes
// (atomic adds of a small run-time value), slot 2 a large constant per
// packet (the non-immediate atomic add), slot 3 the last frame length
// (a value the host reads). Every frame is passed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

SEC("xdp")
int map_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 len = end - data;
	__u32 k;
	__u64 *v;

	k = 0;
	v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	k = 1;
	v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		__sync_fetch_and_add(v, len);
	k = 2;
	v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		__sync_fetch_and_add(v, 100000);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
