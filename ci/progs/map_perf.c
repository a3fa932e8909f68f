// perf_event_output from the card: for each IPv4 frame, an event with a
// small record (the frame length and a marker) and the first 32 bytes of
// the frame, read on the host with `bpftool map event_pipe`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("xdp")
int map_perf(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct {
		__u32 marker;
		__u32 len;
	} rec;

	if (data + 32 > end)
		return XDP_PASS;
	rec.marker = 0x4e465045; /* "NFPE" */
	rec.len = end - data;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU | (32ULL << 32), &rec, sizeof(rec));
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
