package io.pgrelay.core.session;

import io.netty.channel.ChannelHandler;
import io.pgrelay.core.auth.ClientCredentials;
import io.pgrelay.protocol.message.frontend.StartupMessage;

/**
 * What serves a client once it authenticated: a session relaying to the cluster, or the SQL
 * admin console. Implemented where the proxy is wired, so that authentication knows neither
 * the console nor how sessions are built, and its tests can put a stand-in in their place.
 */
public interface LoggedInHandlers {
    /**
     * The handler of a client session; throws a {@link io.pgrelay.protocol.PgProtocolException}
     * for startup options the server would refuse (the client gets it as FATAL).
     */
    ChannelHandler session(StartupMessage startup, ClientCredentials credentials);

    /** The handler of an admin console session; {@code client} is its entry in {@code SHOW CLIENTS}. */
    ChannelHandler console(StartupMessage startup, ClientRegistry.Entry client);
}
