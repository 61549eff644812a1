package io.vectorsync.relay;

import io.vectorsync.config.VectorsyncProperties;
import java.util.Map;
import org.apache.camel.model.Resilience4jConfigurationDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;

/**
 * Registers one Resilience4j configuration per backend, named {@code relay-breaker-<backend>}, from
 * {@code vectorsync.backends.<name>.circuit-breaker.*}. The relay template's circuit breaker refers to
 * it with {@code configuration: relay-breaker-{{backend}}}; the template itself keeps
 * {@code throwExceptionWhenHalfOpenOrOpenState: true} (set here too), which RelayRouteValidator checks.
 * Registered as bean definitions so they exist before Camel builds the routes.
 */
public class RelayBreakers implements BeanDefinitionRegistryPostProcessor {

    public static final String PREFIX = "relay-breaker-";

    private final Environment environment;

    public RelayBreakers(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
        Map<String, VectorsyncProperties.Backend> backends = Binder.get(environment)
                .bind("vectorsync.backends", Bindable.mapOf(String.class, VectorsyncProperties.Backend.class))
                .orElse(Map.of());
        backends.forEach((name, config) -> {
            VectorsyncProperties.CircuitBreaker cb = config.circuitBreaker();
            RootBeanDefinition def = new RootBeanDefinition(Resilience4jConfigurationDefinition.class,
                    () -> definition(cb));
            registry.registerBeanDefinition(PREFIX + name, def);
        });
    }

    static Resilience4jConfigurationDefinition definition(VectorsyncProperties.CircuitBreaker cb) {
        Resilience4jConfigurationDefinition d = new Resilience4jConfigurationDefinition();
        d.setThrowExceptionWhenHalfOpenOrOpenState("true");
        d.setFailureRateThreshold(String.valueOf(cb.failureRateThreshold()));
        d.setMinimumNumberOfCalls(String.valueOf(cb.minimumNumberOfCalls()));
        d.setSlidingWindowSize(String.valueOf(cb.slidingWindowSize()));
        d.setWaitDurationInOpenState(String.valueOf(Math.max(1, cb.waitInOpen().toSeconds())));
        d.setPermittedNumberOfCallsInHalfOpenState(String.valueOf(cb.halfOpenCalls()));
        d.setAutomaticTransitionFromOpenToHalfOpenEnabled("true");
        return d;
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {}
}
