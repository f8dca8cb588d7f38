{{/*
The pod template of a long-running component: (list $ "worker" $.Values.worker ARGS).
Every component runs `streamcore <command> <config.path>`, serves metrics and health on
metrics.port, and shares the env, volumes and security settings.
*/}}
{{- define "streamcore.podTemplate" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $values := index . 2 }}
{{- $command := index . 3 }}
{{- $V := $root.Values -}}
metadata:
  labels:
    {{- include "streamcore.componentLabels" (list $root $component) | nindent 4 }}
    streamcore.io/metrics: "true"
    {{- with $V.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "streamcore.configChecksum" $root }}
    {{- if $V.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $V.metrics.port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $V.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "streamcore.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $V.serviceAccount.automountServiceAccountToken }}
  {{- with $V.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $V.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml $V.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ $component }}
      image: {{ include "streamcore.image" $root }}
      imagePullPolicy: {{ $V.image.pullPolicy }}
      args:
        - {{ $command }}
        - {{ $V.config.path }}
        {{- range $values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      ports:
        {{- if eq $component "api" }}
        - name: http
          containerPort: {{ $values.port }}
          protocol: TCP
        {{- end }}
        - name: metrics
          containerPort: {{ $V.metrics.port }}
          protocol: TCP
      env:
        {{- if eq $component "worker" }}
        {{- /* The group KEDA's lag trigger watches (scaledobject.yaml). */}}
        - name: STREAMCORE_WORKER__CONSUMER_GROUP
          value: {{ include "streamcore.consumerGroup" $root | quote }}
        {{- end }}
        {{- if eq $component "api" }}
        - name: STREAMCORE_API__HOST
          value: "0.0.0.0"
        - name: STREAMCORE_API__PORT
          value: {{ $values.port | quote }}
        {{- end }}
        {{- include "streamcore.env" $root | nindent 8 }}
      {{- with $V.extraEnvFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      startupProbe:
        httpGet:
          path: {{ $V.probes.startup.path }}
          port: metrics
        periodSeconds: {{ $V.probes.startup.periodSeconds }}
        timeoutSeconds: {{ $V.probes.startup.timeoutSeconds }}
        failureThreshold: {{ $V.probes.startup.failureThreshold }}
      livenessProbe:
        httpGet:
          path: {{ $V.probes.liveness.path }}
          port: metrics
        periodSeconds: {{ $V.probes.liveness.periodSeconds }}
        timeoutSeconds: {{ $V.probes.liveness.timeoutSeconds }}
        failureThreshold: {{ $V.probes.liveness.failureThreshold }}
      readinessProbe:
        httpGet:
          path: {{ $V.probes.readiness.path }}
          port: metrics
        periodSeconds: {{ $V.probes.readiness.periodSeconds }}
        timeoutSeconds: {{ $V.probes.readiness.timeoutSeconds }}
        failureThreshold: {{ $V.probes.readiness.failureThreshold }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      securityContext:
        {{- toYaml $V.securityContext | nindent 8 }}
      volumeMounts:
        {{- include "streamcore.volumeMounts" $root | nindent 8 }}
  volumes:
    {{- include "streamcore.volumes" (dict "root" $root "hook" false) | nindent 4 }}
  {{- with $V.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $V.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if $values.affinity }}
  affinity:
    {{- toYaml $values.affinity | nindent 4 }}
  {{- else if ne $values.podAntiAffinity "none" }}
  affinity:
    podAntiAffinity:
      {{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "streamcore.componentSelectorLabels" (list $root $component) | fromYaml)) }}
      {{- if eq $values.podAntiAffinity "required" }}
      requiredDuringSchedulingIgnoredDuringExecution:
        {{- toYaml (list $term) | nindent 8 }}
      {{- else }}
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          podAffinityTerm:
            {{- toYaml $term | nindent 12 }}
      {{- end }}
  {{- end }}
  {{- with $values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* Rolls the pods when the config or module code (from values) changes. */}}
{{- define "streamcore.configChecksum" -}}
{{- $V := .Values }}
{{- list $V.config.source (include "streamcore.configFiles" .) $V.modules.source $V.modules.files | toJson | sha256sum }}
{{- end }}
