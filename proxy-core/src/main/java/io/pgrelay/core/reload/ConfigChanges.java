package io.pgrelay.core.reload;

import io.pgrelay.core.config.ConfigException;
import io.pgrelay.core.config.ConfigKeys;
import io.pgrelay.core.config.HostPort;
import io.pgrelay.core.config.ProxyConfig;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What differs between two configurations, key by key, and the configuration a reload puts in
 * force: the new values of the {@link ReloadableKeys reloadable keys}, the running values of all
 * others. Walks the config records (as the console's SHOW CONFIG does), so a key added to
 * {@link ProxyConfig} is compared, and needs a restart, without a change here.
 */
public final class ConfigChanges {
    private ConfigChanges() {
    }

    /** One key whose value differs: its dotted name ({@code routing.max-replica-lag}) and both values. */
    public record Change(String key, Object running, Object next) {
        public boolean reloadable() {
            return ReloadableKeys.reloadable(key);
        }
    }

    /** Every key whose value differs, in the order of the config records; lists and maps count whole. */
    public static List<Change> between(ProxyConfig running, ProxyConfig next) {
        List<Change> changed = new ArrayList<>();
        diff("", running, next, changed);
        return changed;
    }

    /** {@code running} with every reloadable key taken from {@code next}. */
    public static ProxyConfig effective(ProxyConfig running, ProxyConfig next) {
        return (ProxyConfig) merge("", running, next);
    }

    private static void diff(String key, Object running, Object next, List<Change> changed) {
        if (isSection(running) && isSection(next)) {
            for (RecordComponent component : running.getClass().getRecordComponents()) {
                diff(child(key, component), read(component, running), read(component, next), changed);
            }
        } else if (!Objects.equals(running, next)) {
            changed.add(new Change(key, running, next));
        }
    }

    private static Object merge(String key, Object running, Object next) {
        if (ReloadableKeys.reloadable(key)) {
            return next;
        }
        if (!isSection(running) || !isSection(next)) {
            return running;
        }
        RecordComponent[] components = running.getClass().getRecordComponents();
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        boolean same = true;
        for (int i = 0; i < components.length; i++) {
            Object kept = read(components[i], running);
            values[i] = merge(child(key, components[i]), kept, read(components[i], next));
            types[i] = components[i].getType();
            same &= values[i] == kept;
        }
        if (same) {
            return running;
        }
        try {
            Constructor<?> canonical = running.getClass().getDeclaredConstructor(types);
            return canonical.newInstance(values);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof ConfigException config) {
                throw config;
            }
            throw new IllegalStateException("cannot rebuild config section " + key, e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot rebuild config section " + key, e);
        }
    }

    /** A record with keys under it; HostPort is one value ({@code host:port}). */
    private static boolean isSection(Object value) {
        return value instanceof Record && !(value instanceof HostPort);
    }

    private static String child(String key, RecordComponent component) {
        return (key.isEmpty() ? "" : key + ".") + ConfigKeys.kebab(component.getName());
    }

    private static Object read(RecordComponent component, Object record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read config key " + component.getName(), e);
        }
    }
}
