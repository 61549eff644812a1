package io.vectorsync.support;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactory;

/**
 * Gives every Spring test class its own PostgreSQL database on the real server, so test classes never
 * see each other's rows. The test class is part of the context cache key, so contexts are not shared.
 */
public class DatabasePerClassCustomizerFactory implements ContextCustomizerFactory {

    @Override
    public ContextCustomizer createContextCustomizer(Class<?> testClass,
            List<ContextConfigurationAttributes> configAttributes) {
        return new Customizer(testClass);
    }

    /** Adds {@code spring.datasource.*} for the class's own database. */
    static final class Customizer implements ContextCustomizer {
        private final Class<?> testClass;

        Customizer(Class<?> testClass) {
            this.testClass = testClass;
        }

        @Override
        public void customizeContext(org.springframework.context.ConfigurableApplicationContext context,
                org.springframework.test.context.MergedContextConfiguration merged) {
            var env = context.getEnvironment();
            if (env.containsProperty("vectorsync.test.keep-datasource")) {
                return;
            }
            String db = TestDatabases.create(testClass.getSimpleName());
            env.getPropertySources().addFirst(new MapPropertySource("test-database", Map.of(
                    "spring.datasource.url", TestDatabases.url(db),
                    "spring.datasource.username", TestDatabases.USER,
                    "spring.datasource.password", "",
                    "vectorsync.test.database", db)));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Customizer c && c.testClass.equals(testClass);
        }

        @Override
        public int hashCode() {
            return Objects.hash(testClass);
        }
    }
}
