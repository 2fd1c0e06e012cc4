package io.pgrelay.core.classify;

import io.pgrelay.protocol.SqlLiterals;

/**
 * How a session effect whose value comes from literals is rebuilt from another text with the
 * same {@link Fingerprint}: the cached analysis keeps every decision, and only these values are
 * taken from the tokens of the text at hand (token positions are the same for equal fingerprints).
 */
sealed interface EffectBinding {
    /** The index of the effect in its statement's effects. */
    int effect();

    SessionEffect bind(SessionEffect template, TokenBuffer tokens);

    /** The effect's value is the statement's own text (SET, PREPARE). */
    record StatementText(int effect, int from, int to) implements EffectBinding {
        @Override
        public SessionEffect bind(SessionEffect template, TokenBuffer tokens) {
            String text = tokens.text(from, to);
            if (template instanceof SessionEffect.SetSetting set) {
                return new SessionEffect.SetSetting(set.name(), set.scope(), text);
            }
            SessionEffect.Prepare prepare = (SessionEffect.Prepare) template;
            return new SessionEffect.Prepare(prepare.name(), text, prepare.statement());
        }
    }

    /** {@code set_config(name, value, is_local)}: name and value are string literals at these tokens. */
    record SetConfigArguments(int effect, int nameToken, int valueToken) implements EffectBinding {
        @Override
        public SessionEffect bind(SessionEffect template, TokenBuffer tokens) {
            String name = tokens.stringValue(nameToken);
            String value = tokens.stringValue(valueToken);
            SessionEffect.Scope scope = template instanceof SessionEffect.SetSetting set ? set.scope()
                    : SessionEffect.Scope.SESSION;
            return setConfig(name, value, scope);
        }

        /** The effect of a set_config() call; untracked when an argument is not a string literal. */
        static SessionEffect setConfig(String name, String value, SessionEffect.Scope scope) {
            if (name == null || value == null) {
                return new SessionEffect.UntrackedSetting("set_config() with computed arguments");
            }
            String lower = name.toLowerCase(java.util.Locale.ROOT);
            return new SessionEffect.SetSetting(lower, scope, "SELECT pg_catalog.set_config(" + SqlLiterals.literal(lower)
                    + ", " + SqlLiterals.literal(value) + ", " + (scope == SessionEffect.Scope.LOCAL) + ")");
        }
    }

    /** {@code SET pgrelay.x = value}: the value is a single string literal, or the text of these tokens. */
    record ProxySettingValue(int effect, int from, int to) implements EffectBinding {
        @Override
        public SessionEffect bind(SessionEffect template, TokenBuffer tokens) {
            SessionEffect.ProxySetting setting = (SessionEffect.ProxySetting) template;
            return new SessionEffect.ProxySetting(setting.op(), setting.name(), value(tokens, from, to));
        }

        static String value(TokenBuffer tokens, int from, int to) {
            String literal = from + 1 == to ? tokens.stringValue(from) : null;
            return literal != null ? literal : tokens.text(from, to);
        }
    }

    /** The process id of a pg_cancel_backend / pg_terminate_backend call is this literal. */
    record SignalArgument(int effect, int token) implements EffectBinding {
        @Override
        public SessionEffect bind(SessionEffect template, TokenBuffer tokens) {
            SessionEffect.SignalBackend signal = (SessionEffect.SignalBackend) template;
            return new SessionEffect.SignalBackend(signal.signal(), tokens.text(token, token + 1));
        }
    }

    /**
     * The effect's value is the whole query string: a PREPARE alone in its string, which the
     * server keeps as the statement's text (pg_prepared_statements shows it, semicolon and all).
     */
    record WholeText(int effect) implements EffectBinding {
        @Override
        public SessionEffect bind(SessionEffect template, TokenBuffer tokens) {
            SessionEffect.Prepare prepare = (SessionEffect.Prepare) template;
            return new SessionEffect.Prepare(prepare.name(), tokens.wholeText(), prepare.statement());
        }
    }
}
