package io.vectorsync.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;

/**
 * Checks the layout of {@code vectorsync.backends.<name>.*} in the raw property sources, before anything
 * binds them: Spring's binding ignores keys it does not know, so a key left at its place before the typed
 * layout (issue 14: {@code vectorsync.backends.q.url}, now {@code vectorsync.backends.q.qdrant.url}) or a
 * block of another type would otherwise be dropped without a word and the backend would run on defaults.
 * Also names the allowed values of the enum keys ({@code type}, {@code chroma.distance},
 * {@code qdrant.delete-mode}), which the binder's own error does not.
 */
public final class BackendLayout {

    static final String PREFIX = "vectorsync.backends";

    /** The type-specific keys that were flat before issue 14, each with its name inside the block. */
    private static final Map<String, Map<String, String>> MOVED = Map.of(
            "postgres", Map.of("jdbc-url", "jdbc-url", "username", "username", "password", "password",
                    "table", "table"),
            "webhook", Map.of("url", "url", "secret", "secret"),
            "search", Map.of("url", "url", "collection", "index", "username", "username", "password", "password",
                    "api-key", "api-key"),
            "chroma", Map.of("url", "url", "api-key", "api-key", "collection", "collection", "distance", "distance"),
            "qdrant", Map.of("url", "url", "api-key", "api-key", "collection", "collection",
                    "collection-by", "collection-by", "delete-mode", "delete-mode"),
            "neo4j", Map.of("url", "url", "username", "username", "password", "password", "collection", "label"));

    /** Every flat key of the old layout. */
    private static final Set<String> OLD_FLAT = Stream.concat(
            MOVED.values().stream().flatMap(m -> m.keySet().stream()), Stream.of("flavor"))
            .collect(Collectors.toCollection(TreeSet::new));

    /** The keys of each block, from its record's components. */
    private static final Map<String, Set<String>> BLOCK_KEYS = Arrays.stream(BackendType.values())
            .collect(Collectors.toMap(BackendType::block, t -> keys(t.blockType()), (a, b) -> a));

    /**
     * Every known key by its uniform form (dashes removed), so that an environment variable's
     * {@code ..._APIKEY} or a camel-case {@code apiKey} is recognised as {@code api-key}.
     */
    private static final Map<String, String> CANONICAL = Stream.of(OLD_FLAT.stream(), BLOCK_KEYS.keySet().stream(),
                    BLOCK_KEYS.values().stream().flatMap(Set::stream))
            .flatMap(k -> k).distinct().collect(Collectors.toMap(k -> k.replace("-", ""), k -> k, (a, b) -> a));

    private BackendLayout() {}

    /** Throws with every problem found, one per line; does nothing when the layout is right. */
    public static void check(Iterable<ConfigurationPropertySource> sources) {
        List<String> problems = problems(sources);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("VSYNC-CONFIG-LAYOUT: the backends' configuration is not in the"
                    + " layout this version reads (docs/configuration.md):\n  " + String.join("\n  ", problems));
        }
    }

    /** The problems of the layout, each naming the property and what to write instead. */
    public static List<String> problems(Iterable<ConfigurationPropertySource> sources) {
        Map<String, Set<List<String>>> keysByBackend = new TreeMap<>();
        ConfigurationPropertyName prefix = ConfigurationPropertyName.of(PREFIX);
        for (ConfigurationPropertySource source : sources) {
            if (source instanceof IterableConfigurationPropertySource iterable) {
                iterable.stream().filter(n -> prefix.isAncestorOf(n) && n.getNumberOfElements() > 3)
                        .forEach(n -> keysByBackend.computeIfAbsent(
                                n.getElement(2, ConfigurationPropertyName.Form.DASHED), k -> new LinkedHashSet<>())
                                .add(elements(n)));
            }
        }
        Binder binder = new Binder(sources);
        List<String> problems = new ArrayList<>();
        keysByBackend.forEach((name, keys) -> problems.addAll(problems(name, keys, binder)));
        return problems;
    }

    private static List<String> problems(String name, Set<List<String>> keys, Binder binder) {
        String at = PREFIX + "." + name + ".";
        List<String> problems = new ArrayList<>();
        String rawType = binder.bind(at + "type", String.class).orElse("postgres").trim();
        BackendType type = Arrays.stream(BackendType.values())
                .filter(t -> t.value().equals(rawType.toLowerCase(Locale.ROOT))).findFirst().orElse(null);
        if (type == null) {
            problems.add(at + "type must be one of " + BackendType.allowed() + " but was '" + rawType + "'");
            return problems;
        }
        String block = type.block();
        Set<String> seen = new LinkedHashSet<>();
        for (List<String> key : keys) {
            String first = key.get(0);
            if (OLD_FLAT.contains(first) && key.size() == 1 && seen.add(first)) {
                problems.add(moved(at, first, type));
            } else if (BLOCK_KEYS.containsKey(first) && !first.equals(block) && seen.add(first)) {
                problems.add(at + first + ".* does not apply to a backend of type " + type.value() + ": its keys go"
                        + " under " + at + block + ".* (" + String.join(", ", BLOCK_KEYS.get(block)) + ")");
            } else if (first.equals(block) && key.size() > 1 && !BLOCK_KEYS.get(block).contains(key.get(1))
                    && seen.add(first + "." + key.get(1))) {
                problems.add(at + block + "." + key.get(1) + " is not a key of a " + type.value() + " backend; its keys"
                        + " are " + String.join(", ", BLOCK_KEYS.get(block)));
            }
        }
        enumValue(binder, at + "chroma.distance", BackendBlocks.Distance.class, problems);
        enumValue(binder, at + "qdrant.delete-mode", BackendBlocks.DeleteMode.class, problems);
        return problems;
    }

    private static String moved(String at, String key, BackendType type) {
        if (key.equals("flavor")) {
            return at + "flavor is no longer read: the type (opensearch or elasticsearch) says the flavor;"
                    + " remove it";
        }
        String inBlock = MOVED.getOrDefault(type.block(), Map.of()).get(key);
        if (inBlock == null) {
            return at + key + " is not a key of a " + type.value() + " backend; its keys are under " + at
                    + type.block() + ".* (" + String.join(", ", BLOCK_KEYS.get(type.block())) + ")";
        }
        return at + key + " has moved to " + at + type.block() + "." + inBlock;
    }

    private static <E extends Enum<E>> void enumValue(Binder binder, String property, Class<E> type,
            List<String> problems) {
        binder.bind(property, String.class).ifBound(raw -> {
            String value = raw.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            boolean known = Arrays.stream(type.getEnumConstants()).anyMatch(c -> c.name().equals(value));
            if (!known) {
                problems.add(property + " must be one of " + Arrays.stream(type.getEnumConstants())
                        .map(c -> c.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "))
                        + " but was '" + raw + "'");
            }
        });
    }

    private static List<String> elements(ConfigurationPropertyName name) {
        List<String> elements = new ArrayList<>();
        for (int i = 3; i < name.getNumberOfElements(); i++) {
            String element = name.getElement(i, ConfigurationPropertyName.Form.DASHED);
            elements.add(CANONICAL.getOrDefault(element.replace("-", "").toLowerCase(Locale.ROOT), element));
        }
        return elements;
    }

    private static Set<String> keys(Class<? extends Record> record) {
        return Arrays.stream(record.getRecordComponents())
                .map(c -> c.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT))
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }
}
