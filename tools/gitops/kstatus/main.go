// Command kstatus computes the kstatus status of Kubernetes objects with sigs.k8s.io/cli-utils, the library Flux's
// kustomize-controller and helm-controller use for health checks of custom resources.
//
// Usage: kstatus < objects.json
//
// stdin is a JSON array of objects; stdout is a JSON array with one {"status", "message"} or {"error"} per object,
// status being one of InProgress, Failed, Current, Terminating, NotFound, Unknown.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

func main() {
	var objects []map[string]any
	if err := json.NewDecoder(os.Stdin).Decode(&objects); err != nil {
		fmt.Fprintln(os.Stderr, "stdin: expected a JSON array of objects:", err)
		os.Exit(2)
	}
	out := make([]result, 0, len(objects))
	for _, obj := range objects {
		// Numbers as int64 where integral, as the API machinery decodes them (kstatus reads generation as int64).
		u := &unstructured.Unstructured{}
		raw, _ := json.Marshal(obj)
		if err := u.UnmarshalJSON(raw); err != nil {
			out = append(out, result{Error: err.Error()})
			continue
		}
		res, err := status.Compute(u)
		if err != nil {
			out = append(out, result{Error: err.Error()})
			continue
		}
		out = append(out, result{Status: res.Status.String(), Message: res.Message})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
