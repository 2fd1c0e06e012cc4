package io.pgrelay.core.backend;

/**
 * What session settings pgrelay applied on a server connection: none since it was opened or
 * reset, a known set (identified by the key the session layer builds), or something pgrelay
 * cannot describe (a replay failed, a RESET went back to the server's own defaults).
 */
public sealed interface AppliedSettings {
    AppliedSettings PRISTINE = new Pristine();
    AppliedSettings UNKNOWN = new Unknown();

    static AppliedSettings known(String key) {
        return key.isEmpty() ? PRISTINE : new Known(key);
    }

    /** Whether a session whose settings have this key needs nothing replayed here. */
    boolean matches(String key);

    /** Nothing applied since the connection was opened or reset. */
    record Pristine() implements AppliedSettings {
        @Override
        public boolean matches(String key) {
            return key.isEmpty();
        }
    }

    /** The settings with this key. */
    record Known(String key) implements AppliedSettings {
        @Override
        public boolean matches(String other) {
            return key.equals(other);
        }
    }

    /** Changed in ways pgrelay does not know exactly: the next session resets and replays. */
    record Unknown() implements AppliedSettings {
        @Override
        public boolean matches(String key) {
            return false;
        }
    }
}
