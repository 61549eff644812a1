package io.vectorsync.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Generates the property reference from the configuration processor's metadata: the processor documents
 * every {@code vectorsync.*} key of the records but does not descend into map values, so the keys of
 * {@code vectorsync.backends.<name>.*}, {@code vectorsync.alerts.backends.<name>.*} and
 * {@code vectorsync.jobs.types.<name>.*} (name: the job type) are generated here
 * from the value records (their javadoc {@code @param}s and {@code @DefaultValue}s) into
 * {@code META-INF/additional-spring-configuration-metadata.json}, which the processor merges into its own;
 * then {@code docs/properties.md}, a table per prefix. {@link PropertiesDocTest} fails when either file
 * differs from what this generates.
 */
final class PropertiesDoc {

    static final Path ADDITIONAL = Path.of("src/main/resources/META-INF/additional-spring-configuration-metadata.json");
    static final Path PROCESSOR = Path.of("target/classes/META-INF/spring-configuration-metadata.json");
    static final Path DOC = Path.of("docs/properties.md");
    static final String REGENERATE = "./mvnw -q test -Dtest=PropertiesDocTest -Dvectorsync.updateDocs=true";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** The map-valued properties whose values are records, with the record and the class that declares the map. */
    private static final List<MapValue> MAPS = List.of(
            new MapValue("vectorsync.backends", VectorsyncProperties.Backend.class, VectorsyncProperties.class),
            new MapValue("vectorsync.alerts.backends", AlertProperties.Thresholds.class, AlertProperties.class),
            new MapValue("vectorsync.jobs.types", JobsProperties.JobType.class, JobsProperties.class));

    private record MapValue(String prefix, Class<? extends Record> value, Class<?> source) {}

    private PropertiesDoc() {}

    /** The additional metadata: every key of the map values, named {@code <map>.*.<key>}. */
    static String additionalMetadata() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode groups = root.putArray("groups");
        ArrayNode properties = root.putArray("properties");
        ArrayNode hints = root.putArray("hints");
        for (MapValue map : MAPS) {
            describe(map.prefix() + ".*", map.value(), map.source(), groups, properties, hints);
        }
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void describe(String prefix, Class<? extends Record> record, Class<?> source, ArrayNode groups,
            ArrayNode properties, ArrayNode hints) {
        groups.addObject().put("name", prefix).put("type", record.getName()).put("sourceType", source.getName());
        Map<String, String> params = javadocParams(record);
        RecordComponent[] components = record.getRecordComponents();
        Constructor<?> canonical;
        try {
            canonical = record.getDeclaredConstructor(Arrays.stream(components).map(RecordComponent::getType)
                    .toArray(Class<?>[]::new));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            String name = prefix + "." + kebab(c.getName());
            String description = params.get(c.getName());
            if (description == null) {
                throw new IllegalStateException(record.getName() + " has no javadoc @param " + c.getName());
            }
            if (c.getType().isRecord()) {
                @SuppressWarnings("unchecked")
                Class<? extends Record> nested = (Class<? extends Record>) c.getType();
                describe(name, nested, record, groups, properties, hints);
                continue;
            }
            ObjectNode p = properties.addObject().put("name", name).put("type", typeName(c.getGenericType()))
                    .put("description", description).put("sourceType", record.getName());
            DefaultValue d = canonical.getParameters()[i].getAnnotation(DefaultValue.class);
            if (d != null && d.value().length == 1) {
                p.put("defaultValue", d.value()[0]);
            }
            if (c.getType().isEnum()) {
                ArrayNode values = hints.addObject().put("name", name).putArray("values");
                for (Object constant : c.getType().getEnumConstants()) {
                    values.addObject().put("value", ((Enum<?>) constant).name().toLowerCase(Locale.ROOT));
                }
            }
        }
    }

    /** docs/properties.md from the processor's metadata, with the map values' keys generated afresh. */
    static String markdown(String processorMetadata, String additional) {
        Map<String, JsonNode> properties = new TreeMap<>();
        List<String> groups = new ArrayList<>();
        for (String text : List.of(processorMetadata, additional)) {
            JsonNode root;
            try {
                root = JSON.readTree(text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            boolean fromProcessor = text == processorMetadata;
            root.path("groups").forEach(g -> {
                String name = g.path("name").asText();
                if (name.startsWith("vectorsync") && !(fromProcessor && name.contains(".*")) && !groups.contains(name)) {
                    groups.add(name);
                }
            });
            root.path("properties").forEach(p -> {
                String name = p.path("name").asText();
                // the processor's copy of the additional file may be stale: the generated one wins
                if (name.startsWith("vectorsync.") && !(fromProcessor && name.contains(".*."))) {
                    properties.put(name, p);
                }
            });
        }
        groups.sort(Comparator.naturalOrder());
        Map<String, List<JsonNode>> byGroup = new LinkedHashMap<>();
        groups.forEach(g -> byGroup.put(g, new ArrayList<>()));
        properties.forEach((name, p) -> {
            String group = groups.stream().filter(g -> name.startsWith(g + ".")).max(Comparator.comparingInt(String::length))
                    .orElseThrow(() -> new IllegalStateException("no group for " + name));
            byGroup.get(group).add(p);
        });
        StringBuilder md = new StringBuilder();
        md.append("# Configuration properties\n\n");
        md.append("<!-- Generated from the configuration metadata by PropertiesDocTest; do not edit by hand.\n");
        md.append("     Regenerate: ").append(REGENERATE).append(" -->\n\n");
        md.append("Every `vectorsync.*` key, with its type, default and meaning. `<name>` stands for a backend's"
                + " name. Set them in `application.yaml`, as `--key=value` arguments or as environment variables"
                + " (`VECTORSYNC_BACKENDS_<NAME>_QDRANT_URL`). See [configuration.md](configuration.md) for how they"
                + " fit together.\n");
        byGroup.forEach((group, rows) -> {
            if (rows.isEmpty()) {
                return;
            }
            md.append("\n## `").append(shown(group)).append("`\n\n");
            md.append("| Property | Type | Default | Description |\n|---|---|---|---|\n");
            for (JsonNode p : rows) {
                md.append("| `").append(shown(p.path("name").asText())).append("` | ")
                        .append(cell(shownType(p.path("type").asText()))).append(" | ")
                        .append(p.has("defaultValue") ? "`" + (shownDefault(p.get("defaultValue")).isEmpty() ? "\"\"" : shownDefault(p.get("defaultValue"))) + "`" : "")
                        .append(" | ").append(cell(p.path("description").asText())).append(" |\n");
            }
        });
        return md.toString();
    }

    private static String shown(String name) {
        return name.replace(".*", ".<name>");
    }

    private static String shownDefault(JsonNode d) {
        if (d.isArray()) {
            List<String> values = new ArrayList<>();
            d.forEach(v -> values.add(v.asText()));
            return String.join(",", values);
        }
        return d.asText();
    }

    private static String shownType(String type) {
        try {
            Class<?> c = Class.forName(type);
            if (c.isEnum()) {
                return Arrays.stream(c.getEnumConstants()).map(e -> ((Enum<?>) e).name().toLowerCase(Locale.ROOT))
                        .collect(Collectors.joining(" | "));
            }
        } catch (ClassNotFoundException e) {
            // a generic type: shown without packages below
        }
        return type.replaceAll("[a-z][a-z0-9]*\\.", "").replaceAll("\\w+\\$", "");
    }

    private static String cell(String text) {
        return text.replaceAll("\\s+", " ").trim().replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String typeName(Type type) {
        if (type instanceof ParameterizedType p) {
            return typeName(p.getRawType()) + "<" + Arrays.stream(p.getActualTypeArguments()).map(PropertiesDoc::typeName)
                    .collect(Collectors.joining(",")) + ">";
        }
        Class<?> c = (Class<?>) type;
        if (c.isPrimitive()) {
            return switch (c.getName()) {
                case "int" -> "java.lang.Integer";
                case "char" -> "java.lang.Character";
                default -> "java.lang." + Character.toUpperCase(c.getName().charAt(0)) + c.getName().substring(1);
            };
        }
        return c.getName();
    }

    static String kebab(String camel) {
        return camel.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
    }

    /** The {@code @param} descriptions of a record's javadoc, read from its source file. */
    static Map<String, String> javadocParams(Class<?> record) {
        Class<?> top = record;
        while (top.getEnclosingClass() != null) {
            top = top.getEnclosingClass();
        }
        Path file = Path.of("src/main/java", top.getName().replace('.', '/') + ".java");
        String source;
        try {
            source = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Matcher m = Pattern.compile("/\\*\\*((?:(?!\\*/).)*)\\*/\\s*(?:@[\\w.]+(?:\\([^)]*\\))?\\s*)*public record "
                + record.getSimpleName() + "\\(", Pattern.DOTALL).matcher(source);
        if (!m.find()) {
            throw new IllegalStateException("no javadoc found for record " + record.getName() + " in " + file);
        }
        String doc = m.group(1).replaceAll("(?m)^\\s*\\*\\s?", " ");
        Map<String, String> params = new LinkedHashMap<>();
        Matcher p = Pattern.compile("@param\\s+(\\w+)\\s+((?:(?!@\\w).)*)", Pattern.DOTALL).matcher(doc);
        while (p.find()) {
            params.put(p.group(1), p.group(2).replaceAll("\\s+", " ").trim());
        }
        return params;
    }
}
