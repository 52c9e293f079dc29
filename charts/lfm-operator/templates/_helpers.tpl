{{/* The chart name, overridable. */}}
{{- define "lfm-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The object name prefix: the release name, plus the chart name unless the release name contains it. */}}
{{- define "lfm-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "lfm-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lfm-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: lfm-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the operator pods. */}}
{{- define "lfm-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lfm-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "lfm-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lfm-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator image: repository@digest when a digest is set, else repository:tag (default appVersion). */}}
{{- define "lfm-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The activator's name: the full name (cut to 53 characters, so that the suffix is never cut) with -activator. Its
Deployment, ServiceAccount, PodDisruptionBudget, ClusterRole and bindings carry it. */}}
{{- define "lfm-operator.activatorFullname" -}}
{{- printf "%s-activator" (include "lfm-operator.fullname" . | trunc 53 | trimSuffix "-") }}
{{- end }}

{{/* Labels of the activator's objects. */}}
{{- define "lfm-operator.activatorLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lfm-operator.activatorSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: lfm-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the activator pods. The operator finds them in its namespace by app.kubernetes.io/name
lfm-operator and app.kubernetes.io/component activator, so the name is fixed (nameOverride does not change it). */}}
{{- define "lfm-operator.activatorSelectorLabels" -}}
app.kubernetes.io/name: lfm-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: activator
{{- end }}

{{/* The ServiceAccount the activator runs as. */}}
{{- define "lfm-operator.activatorServiceAccountName" -}}
{{- if .Values.activator.serviceAccount.create }}
{{- default (include "lfm-operator.activatorFullname" .) .Values.activator.serviceAccount.name }}
{{- else }}
{{- required "activator.serviceAccount.name is required when activator.serviceAccount.create is false" .Values.activator.serviceAccount.name }}
{{- end }}
{{- end }}
