package io.vectorsync.config;

import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.PriorityOrdered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

/**
 * Runs {@link BackendLayout} at start-up, first among the registry post-processors: before the relay's
 * circuit-breaker definitions or any bean bind {@code vectorsync.backends}, and after every property
 * source (test properties, {@code @DynamicPropertySource}) is in the environment.
 */
@Configuration(proxyBeanMethods = false)
@ServerOnly
public class BackendLayoutCheck {

    @Bean
    static BeanDefinitionRegistryPostProcessor backendLayoutChecker() {
        return new Check();
    }

    static final class Check implements BeanDefinitionRegistryPostProcessor, PriorityOrdered, EnvironmentAware {

        private Environment environment;

        @Override
        public void setEnvironment(Environment environment) {
            this.environment = environment;
        }

        @Override
        public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
            if (environment instanceof ConfigurableEnvironment env) {
                BackendLayout.check(ConfigurationPropertySources.get(env));
            }
        }

        @Override
        public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {}

        @Override
        public int getOrder() {
            return HIGHEST_PRECEDENCE;
        }
    }
}
