// Command libcni_driver is the bench's Go peer: one process per CNI call,
// as a runtime that execs a helper would run the reference libcni (the one
// containerd, CRI-O and podman link in). Each call does what cnishim's CLI
// does per call: scan the conf dir, take the lexically first valid network
// (go-cni's rule), run its chain with libcni and keep libcni's cache.
//
//	libcni_driver ADD|DEL CONF_DIR BIN_DIR CACHE_DIR CONTAINER_ID NETNS IFNAME [CAPABILITY_ARGS_JSON]
//
// ADD prints the result; a failure prints the error on stderr and exits 1.
// Built by bench/_go_peer.ts in GOPATH mode from Debian's
// golang-github-appc-cni-dev (libcni 1.1.2), offline.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "libcni_driver: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 7 || len(args) > 8 {
		return fmt.Errorf("usage: libcni_driver ADD|DEL CONF_DIR BIN_DIR CACHE_DIR CONTAINER_ID NETNS IFNAME [CAPABILITY_ARGS_JSON]")
	}
	command, confDir, binDir, cacheDir := args[0], args[1], args[2], args[3]
	rt := &libcni.RuntimeConf{
		ContainerID: args[4],
		NetNS:       args[5],
		IfName:      args[6],
	}
	if len(args) == 8 {
		if err := json.Unmarshal([]byte(args[7]), &rt.CapabilityArgs); err != nil {
			return fmt.Errorf("capability args: %v", err)
		}
	}
	list, err := firstNetwork(confDir)
	if err != nil {
		return err
	}
	cni := libcni.NewCNIConfigWithCacheDir([]string{binDir}, cacheDir, nil)
	ctx := context.Background()
	switch command {
	case "ADD":
		result, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			return err
		}
		return result.Print()
	case "DEL":
		return cni.DelNetworkList(ctx, list, rt)
	default:
		return fmt.Errorf("unknown command %q (ADD or DEL)", command)
	}
}

// firstNetwork is go-cni's loadFromConfDir with max 1: the lexically first
// file that parses and has plugins.
func firstNetwork(dir string) (*libcni.NetworkConfigList, error) {
	files, err := libcni.ConfFiles(dir, []string{".conf", ".conflist", ".json"})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, file := range files {
		var list *libcni.NetworkConfigList
		if filepath.Ext(file) == ".conflist" {
			list, err = libcni.ConfListFromFile(file)
		} else {
			var conf *libcni.NetworkConfig
			if conf, err = libcni.ConfFromFile(file); err == nil {
				list, err = libcni.ConfListFromConf(conf)
			}
		}
		if err == nil && len(list.Plugins) > 0 {
			return list, nil
		}
	}
	return nil, fmt.Errorf("no valid network in %s", dir)
}
