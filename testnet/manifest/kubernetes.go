package manifest

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"
)

// The Kubernetes objects, with the fields this package writes, spelled as
// k8s.io/api spells them (the test decodes them strictly with its types).
type (
	meta struct {
		Name        string            `json:"name,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	object struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   meta   `json:"metadata"`
		Data       any    `json:"data,omitempty"`
		Spec       any    `json:"spec,omitempty"`
	}
	servicePort struct {
		Name string `json:"name"`
		Port int    `json:"port"`
	}
	serviceSpec struct {
		ClusterIP                string            `json:"clusterIP"`
		PublishNotReadyAddresses bool              `json:"publishNotReadyAddresses"`
		Selector                 map[string]string `json:"selector"`
		Ports                    []servicePort     `json:"ports"`
	}
	containerPort struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	}
	volumeMount struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
		ReadOnly  bool   `json:"readOnly,omitempty"`
	}
	container struct {
		Name            string          `json:"name"`
		Image           string          `json:"image"`
		ImagePullPolicy string          `json:"imagePullPolicy"`
		Args            []string        `json:"args"`
		Ports           []containerPort `json:"ports"`
		VolumeMounts    []volumeMount   `json:"volumeMounts"`
	}
	volume struct {
		Name      string `json:"name"`
		ConfigMap struct {
			Name string `json:"name"`
		} `json:"configMap"`
	}
	podTemplate struct {
		Metadata meta `json:"metadata"`
		Spec     struct {
			Containers []container `json:"containers"`
			Volumes    []volume    `json:"volumes"`
		} `json:"spec"`
	}
	claim struct {
		Metadata meta `json:"metadata"`
		Spec     struct {
			AccessModes []string `json:"accessModes"`
			Resources   struct {
				Requests map[string]string `json:"requests"`
			} `json:"resources"`
		} `json:"spec"`
	}
	statefulSetSpec struct {
		ServiceName         string `json:"serviceName"`
		Replicas            int    `json:"replicas"`
		PodManagementPolicy string `json:"podManagementPolicy"`
		Selector            struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Template             podTemplate `json:"template"`
		VolumeClaimTemplates []claim     `json:"volumeClaimTemplates"`
	}
)

// Kubernetes returns c's manifests, one YAML document each: the genesis in
// a ConfigMap, a headless Service that gives pod i the name NAME-i.NAME,
// and a StatefulSet of c.Nodes pods whose annotations ask Prometheus to
// scrape /metrics on the RPC port. Pods start in parallel and dial each
// other as static peers (redialled until they answer). All pods run one
// command line, so they mine to one coinbase, Coinbase(0).
func Kubernetes(c Config) ([]byte, error) {
	t, err := c.check()
	if err != nil {
		return nil, err
	}
	labels := map[string]string{"app.kubernetes.io/name": "chaind", "app.kubernetes.io/instance": t.Name}
	genesisMap := t.Name + "-genesis"
	var peers []string
	for i := range t.Nodes {
		peers = append(peers, fmt.Sprintf("%s-%d.%s:%d", t.Name, i, t.Name, P2PPort))
	}
	cm := object{APIVersion: "v1", Kind: "ConfigMap", Metadata: meta{Name: genesisMap, Labels: labels},
		Data: map[string]string{genesisFile: string(t.Genesis)}}
	svc := object{APIVersion: "v1", Kind: "Service", Metadata: meta{Name: t.Name, Labels: labels},
		Spec: serviceSpec{ClusterIP: "None", PublishNotReadyAddresses: true, Selector: labels,
			Ports: []servicePort{{Name: "p2p", Port: P2PPort}, {Name: "rpc", Port: RPCPort}}}}
	var spec statefulSetSpec
	spec.ServiceName, spec.Replicas, spec.PodManagementPolicy = t.Name, t.Nodes, "Parallel"
	spec.Selector.MatchLabels = labels
	spec.Template.Metadata = meta{Labels: labels, Annotations: map[string]string{
		"prometheus.io/scrape": "true", "prometheus.io/port": fmt.Sprint(RPCPort), "prometheus.io/path": "/metrics"}}
	spec.Template.Spec.Containers = []container{{Name: "chaind", Image: t.Image, ImagePullPolicy: "IfNotPresent",
		Args:  t.args(peers, Coinbase(0)),
		Ports: []containerPort{{Name: "p2p", ContainerPort: P2PPort}, {Name: "rpc", ContainerPort: RPCPort}},
		VolumeMounts: []volumeMount{{Name: "genesis", MountPath: genesisDir, ReadOnly: true},
			{Name: "data", MountPath: dataDir}}}}
	var v volume
	v.Name, v.ConfigMap.Name = "genesis", genesisMap
	spec.Template.Spec.Volumes = []volume{v}
	var data claim
	data.Metadata.Name = "data"
	data.Spec.AccessModes = []string{"ReadWriteOnce"}
	data.Spec.Resources.Requests = map[string]string{"storage": "1Gi"}
	spec.VolumeClaimTemplates = []claim{data}
	sts := object{APIVersion: "apps/v1", Kind: "StatefulSet", Metadata: meta{Name: t.Name, Labels: labels}, Spec: spec}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# A chaind testnet of %d nodes: kubectl apply -f %s\n", t.Nodes, KubernetesFile)
	for i, o := range []object{cm, svc, sts} {
		doc, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("manifest: %s: %w", o.Kind, err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(doc)
	}
	return out.Bytes(), nil
}
