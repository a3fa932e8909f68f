// A blocklist in an offloaded hash map the host fills with bpftool: IPv4
// frames from a listed source address are dropped and counted in the
// entry's value; everything else passes. The program also records, in a
// second hash map, the length of the last frame seen per UDP source port
// (bpf_map_update_elem from the datapath), and deletes the record of
// port 7 (bpf_map_delete_elem).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} last_len SEC(".maps");

SEC("xdp")
int map_blocklist(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 saddr, port, len;
	__u64 *hits;

	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	saddr = ip->saddr;
	hits = bpf_map_lookup_elem(&blocked, &saddr);
	if (hits) {
		__sync_fetch_and_add(hits, 1);
		return XDP_DROP;
	}
	if (ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	port = bpf_ntohs(udp->source);
	len = end - data;
	if (port == 7)
		bpf_map_delete_elem(&last_len, &port);
	else
		bpf_map_update_elem(&last_len, &port, &len, BPF_ANY);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
