// A small libbpf loader as eBPF authors write them: open an object, bind
// its program and maps to a netdev for offload (bpf_program__set_ifindex,
// bpf_map__set_ifindex), load, attach in hardware mode; or detach.
//
//   xdp_offload_load OBJ IFNAME     load and attach; prints the program id
//   xdp_offload_load -d IFNAME      detach the offloaded program
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	struct bpf_map *map;
	unsigned int ifindex;
	int err, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJ IFNAME | -d IFNAME\n", argv[0]);
		return 2;
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "-d")) {
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_HW_MODE, NULL);
		if (err) {
			fprintf(stderr, "detach: %s\n", strerror(-err));
			return 1;
		}
		return 0;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_ifindex(prog, ifindex);
	bpf_object__for_each_map(map, obj)
		bpf_map__set_ifindex(map, ifindex);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load: %s\n", strerror(-err));
		return 1;
	}
	prog = bpf_object__next_program(obj, NULL);
	fd = bpf_program__fd(prog);
	err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_HW_MODE, NULL);
	if (err) {
		fprintf(stderr, "attach: %s\n", strerror(-err));
		return 1;
	}
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		printf("%u\n", info.id);
	return 0;
}
