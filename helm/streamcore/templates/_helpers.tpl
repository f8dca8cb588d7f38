{{/*
Names and labels.
*/}}
{{- define "streamcore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "streamcore.fullname" -}}
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

{{/* "<fullname>-<component>", within the 63 characters of a DNS label. */}}
{{- define "streamcore.componentName" -}}
{{- $root := index . 0 }}{{ $component := index . 1 }}
{{- printf "%s-%s" (include "streamcore.fullname" $root | trunc (int (sub 62 (len $component)))) $component | trimSuffix "-" }}
{{- end }}

{{- define "streamcore.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamcore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "streamcore.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "streamcore.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: streamcore
{{- end }}

{{/* Selector labels of one component: (list $ "worker"). */}}
{{- define "streamcore.componentSelectorLabels" -}}
{{ include "streamcore.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "streamcore.componentLabels" -}}
{{ include "streamcore.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "streamcore.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "streamcore.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "streamcore.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The config directory's files, path -> content, as JSON (a YAML round trip would lose the last
file's final newline): config.files, or when that is empty the chart's example-config/.
*/}}
{{- define "streamcore.configFiles" -}}
{{- if .Values.config.files }}
{{- toJson .Values.config.files }}
{{- else }}
{{- $files := dict }}
{{- range $path, $_ := .Files.Glob "example-config/**" }}
{{- $_ := set $files (trimPrefix "example-config/" $path) ($.Files.Get $path) }}
{{- end }}
{{- toJson $files }}
{{- end }}
{{- end }}

{{/*
The application's name: appName, or app_name from the inline processing_core.yml.
*/}}
{{- define "streamcore.appName" -}}
{{- $fromConfig := "" }}
{{- if eq .Values.config.source "configMap" }}
{{- with index (include "streamcore.configFiles" . | fromJson) "processing_core.yml" }}
{{- $fromConfig = (fromYaml .).app_name | default "" | toString }}
{{- end }}
{{- end }}
{{- if and .Values.appName $fromConfig (ne .Values.appName $fromConfig) }}
{{- fail (printf "appName %q differs from app_name %q in config.files[\"processing_core.yml\"]: topic names and the consumer group would not match the application's" .Values.appName $fromConfig) }}
{{- end }}
{{- $name := default $fromConfig .Values.appName }}
{{- if not $name }}
{{- fail "appName is required: set it to the app_name of your config directory (or put app_name in config.files[\"processing_core.yml\"])" }}
{{- end }}
{{- $name }}
{{- end }}

{{- define "streamcore.inputTopic" -}}
{{- default (printf "%s.input" (include "streamcore.appName" .)) .Values.kafka.topics.input }}
{{- end }}

{{- define "streamcore.consumerGroup" -}}
{{- default (printf "%s.ingest" (include "streamcore.appName" .)) .Values.kafka.consumerGroup }}
{{- end }}

{{- define "streamcore.saslEnabled" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}true{{ end }}
{{- end }}

{{- define "streamcore.sslEnabled" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") }}true{{ end }}
{{- end }}

{{- define "streamcore.kafkaTlsMounted" -}}
{{- if and (include "streamcore.sslEnabled" .) .Values.kafka.ssl.existingSecret }}true{{ end }}
{{- end }}

{{/*
A config file path ("db_entities/ip.yml") as a ConfigMap key ("db_entities__ip.yml"): keys
cannot hold "/", the volume's items put each file back at its path.
*/}}
{{- define "streamcore.fileKey" -}}
{{- replace "/" "__" . }}
{{- end }}

{{/*
A ConfigMap of files: (dict "root" $ "name" NAME "files" MAP "hook" BOOL).
*/}}
{{- define "streamcore.filesConfigMap" -}}
{{- $seen := dict }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name }}
  labels:
    {{- include "streamcore.labels" .root | nindent 4 }}
  {{- if .hook }}
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
    "helm.sh/hook-weight": "-10"
    "helm.sh/hook-delete-policy": before-hook-creation
  {{- end }}
data:
  {{- range $path, $content := .files }}
  {{- $key := include "streamcore.fileKey" $path }}
  {{- if hasKey $seen $key }}
  {{- fail (printf "files %q and %q would share the ConfigMap key %q: rename one" (get $seen $key) $path $key) }}
  {{- end }}
  {{- $_ := set $seen $key $path }}
  {{- dict $key ($content | toString) | toYaml | nindent 2 }}
  {{- end }}
{{- end }}

{{/* The volume items that lay a files ConfigMap out as a directory tree. */}}
{{- define "streamcore.fileItems" -}}
{{- $items := list }}
{{- range $path, $_ := . }}
{{- $items = append $items (dict "key" (include "streamcore.fileKey" $path) "path" $path) }}
{{- end }}
{{- toYaml $items }}
{{- end }}

{{/*
Volumes every streamcore pod has: (dict "root" $ "hook" BOOL); the setup hook mounts the hook's
own copies of the ConfigMaps, which exist before the release's resources do.
*/}}
{{- define "streamcore.volumes" -}}
{{- $root := .root }}
{{- $suffix := ternary "-setup" "" .hook -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ $root.Values.tmpVolume.sizeLimit }}
{{- if eq $root.Values.config.source "configMap" }}
- name: config
  configMap:
    name: {{ include "streamcore.fullname" $root }}-config{{ $suffix }}
    items:
      {{- include "streamcore.fileItems" (include "streamcore.configFiles" $root | fromJson) | nindent 6 }}
{{- end }}
{{- if and (eq $root.Values.modules.source "configMap") $root.Values.modules.files }}
- name: modules
  configMap:
    name: {{ include "streamcore.fullname" $root }}-modules{{ $suffix }}
    items:
      {{- include "streamcore.fileItems" $root.Values.modules.files | nindent 6 }}
{{- end }}
{{- if include "streamcore.kafkaTlsMounted" $root }}
{{- $ssl := $root.Values.kafka.ssl }}
- name: kafka-tls
  secret:
    secretName: {{ $ssl.existingSecret }}
    defaultMode: 0440
    items:
      {{- range $key := list $ssl.caKey $ssl.certificateKey $ssl.keyKey | compact | uniq }}
      - key: {{ $key }}
        path: {{ $key }}
      {{- end }}
{{- end }}
{{- end }}

{{- define "streamcore.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if eq .Values.config.source "configMap" }}
- name: config
  mountPath: {{ .Values.config.path }}
  readOnly: true
{{- end }}
{{- if and (eq .Values.modules.source "configMap") .Values.modules.files }}
- name: modules
  mountPath: {{ .Values.modules.path }}
  readOnly: true
{{- end }}
{{- if include "streamcore.kafkaTlsMounted" . }}
- name: kafka-tls
  mountPath: /etc/streamcore/kafka-tls
  readOnly: true
{{- end }}
{{- end }}

{{/* A secretKeyRef env var: (list NAME SECRET KEY). */}}
{{- define "streamcore.secretEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 }}
      key: {{ index . 2 }}
{{- end }}

{{/*
The process settings (streamcore/settings.py) every container gets, secrets by reference only,
and the application name (STREAMCORE_APP_NAME, the CLI's --app-name).
*/}}
{{- define "streamcore.env" -}}
{{- $k := .Values.kafka }}
{{- $c := .Values.cassandra -}}
{{- /* Read by the CLI's --app-name (the config directory's app_name is not). */ -}}
- name: STREAMCORE_APP_NAME
  value: {{ include "streamcore.appName" . | quote }}
- name: STREAMCORE_KAFKA__BOOTSTRAP_SERVERS
  value: {{ $k.bootstrapServers | quote }}
- name: STREAMCORE_KAFKA__SECURITY_PROTOCOL
  value: {{ $k.securityProtocol | quote }}
{{- if include "streamcore.saslEnabled" . }}
- name: STREAMCORE_KAFKA__SASL_MECHANISM
  value: {{ $k.sasl.mechanism | quote }}
{{- if $k.sasl.usernameKey }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_KAFKA__SASL_USERNAME" $k.sasl.existingSecret $k.sasl.usernameKey) }}
{{- else }}
- name: STREAMCORE_KAFKA__SASL_USERNAME
  value: {{ $k.sasl.username | quote }}
{{- end }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_KAFKA__SASL_PASSWORD" $k.sasl.existingSecret $k.sasl.passwordKey) }}
{{- end }}
{{- if include "streamcore.kafkaTlsMounted" . }}
{{- if $k.ssl.caKey }}
- name: STREAMCORE_KAFKA__SSL_CA_LOCATION
  value: /etc/streamcore/kafka-tls/{{ $k.ssl.caKey }}
{{- end }}
{{- if $k.ssl.certificateKey }}
- name: STREAMCORE_KAFKA__SSL_CERTIFICATE_LOCATION
  value: /etc/streamcore/kafka-tls/{{ $k.ssl.certificateKey }}
- name: STREAMCORE_KAFKA__SSL_KEY_LOCATION
  value: /etc/streamcore/kafka-tls/{{ $k.ssl.keyKey }}
{{- end }}
{{- if $k.ssl.keyPasswordKey }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_KAFKA__SSL_KEY_PASSWORD" $k.ssl.existingSecret $k.ssl.keyPasswordKey) }}
{{- end }}
{{- end }}
{{- with $k.clientOptions }}
- name: STREAMCORE_KAFKA__CLIENT_OPTIONS
  value: {{ toJson . | quote }}
{{- end }}
- name: STREAMCORE_TOPICS__PARTITIONS
  value: {{ $k.topics.partitions | quote }}
- name: STREAMCORE_TOPICS__REPLICATION_FACTOR
  value: {{ $k.topics.replicationFactor | quote }}
{{- range $role, $env := dict "input" "INPUT" "control" "CONTROL" "controlAcks" "CONTROL_ACKS" "deadLetter" "DEAD_LETTER" "snapshots" "SNAPSHOTS" "snapshotTasks" "SNAPSHOT_TASKS" }}
{{- with index $k.topics $role }}
- name: STREAMCORE_TOPICS__{{ $env }}
  value: {{ . | quote }}
{{- end }}
{{- end }}
- name: STREAMCORE_CASSANDRA__CONTACT_POINTS
  value: {{ toJson $c.contactPoints | quote }}
- name: STREAMCORE_CASSANDRA__PORT
  value: {{ $c.port | quote }}
- name: STREAMCORE_CASSANDRA__KEYSPACE
  value: {{ $c.keyspace | quote }}
- name: STREAMCORE_CASSANDRA__REPLICATION_FACTOR
  value: {{ $c.replicationFactor | quote }}
{{- with $c.localDC }}
- name: STREAMCORE_CASSANDRA__LOCAL_DC
  value: {{ . | quote }}
{{- end }}
{{- if $c.auth.existingSecret }}
{{- if $c.auth.usernameKey }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_CASSANDRA__USERNAME" $c.auth.existingSecret $c.auth.usernameKey) }}
{{- else }}
- name: STREAMCORE_CASSANDRA__USERNAME
  value: {{ $c.auth.username | quote }}
{{- end }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_CASSANDRA__PASSWORD" $c.auth.existingSecret $c.auth.passwordKey) }}
{{- end }}
- name: STREAMCORE_METRICS__PORT
  value: {{ .Values.metrics.port | quote }}
- name: STREAMCORE_METRICS__HOST
  value: {{ .Values.metrics.host | quote }}
{{- with .Values.metrics.auth }}
{{- if .tokenKey }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_METRICS__TOKEN" .existingSecret .tokenKey) }}
{{- end }}
{{- if .passwordKey }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_METRICS__USERNAME" .existingSecret .usernameKey) }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_METRICS__PASSWORD" .existingSecret .passwordKey) }}
{{- end }}
{{- end }}
{{- with .Values.control.existingSecret }}
{{ include "streamcore.secretEnv" (list "STREAMCORE_CONTROL__SECRET" . $.Values.control.secretKey) }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Checks that need more than one value at a time (values.schema.json checks each value alone).
*/}}
{{- define "streamcore.validate" -}}
{{- $k := .Values.kafka }}
{{- if and (include "streamcore.saslEnabled" .) (not $k.sasl.existingSecret) }}
{{- fail (printf "kafka.securityProtocol is %s: set kafka.sasl.existingSecret to the name of an existing Secret holding the SASL password" $k.securityProtocol) }}
{{- end }}
{{- if and (include "streamcore.saslEnabled" .) (not $k.sasl.username) (not $k.sasl.usernameKey) }}
{{- fail "kafka.securityProtocol uses SASL: set kafka.sasl.username, or kafka.sasl.usernameKey to read it from kafka.sasl.existingSecret" }}
{{- end }}
{{- with .Values.metrics.auth }}
{{- if and (or .tokenKey .passwordKey) (not .existingSecret) }}
{{- fail "metrics.auth.tokenKey/passwordKey need metrics.auth.existingSecret, the name of an existing Secret holding them" }}
{{- end }}
{{- if ne (empty .usernameKey) (empty .passwordKey) }}
{{- fail "metrics.auth.usernameKey and metrics.auth.passwordKey go together: set both (basic auth) or neither" }}
{{- end }}
{{- end }}
{{- if ne (empty $k.ssl.certificateKey) (empty $k.ssl.keyKey) }}
{{- fail "kafka.ssl.certificateKey and kafka.ssl.keyKey go together: set both (client certificate) or neither" }}
{{- end }}
{{- if and (include "streamcore.sslEnabled" .) (or $k.ssl.certificateKey $k.ssl.keyPasswordKey) (not $k.ssl.existingSecret) }}
{{- fail "kafka.ssl.certificateKey/keyPasswordKey need kafka.ssl.existingSecret, the Secret that holds them" }}
{{- end }}
{{- $auth := .Values.cassandra.auth }}
{{- if and $auth.existingSecret (not $auth.username) (not $auth.usernameKey) }}
{{- fail "cassandra.auth.existingSecret is set: set cassandra.auth.username, or cassandra.auth.usernameKey to read it from that Secret" }}
{{- end }}
{{- if and (or $auth.username $auth.usernameKey) (not $auth.existingSecret) }}
{{- fail "cassandra.auth.username is set: set cassandra.auth.existingSecret to the name of an existing Secret holding the password" }}
{{- end }}
{{- $as := .Values.worker.autoscaling }}
{{- if and .Values.worker.enabled $as.enabled }}
{{- if gt (int $as.minReplicas) (min (int $as.maxReplicas) (int $k.topics.partitions)) }}
{{- fail (printf "worker.autoscaling.minReplicas (%d) is above the effective maximum min(maxReplicas %d, kafka.topics.partitions %d)" (int $as.minReplicas) (int $as.maxReplicas) (int $k.topics.partitions)) }}
{{- end }}
{{- end }}
{{- $_ := include "streamcore.appName" . }}
{{- end }}
