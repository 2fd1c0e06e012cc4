package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.pgrelay.core.backend.StatementIdentity;
import io.pgrelay.core.classify.Classification;
import io.pgrelay.core.classify.StatementFacts;
import io.pgrelay.protocol.PgProtocolException;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.frontend.FrameNames;
import io.pgrelay.protocol.message.frontend.FramePeek;
import io.pgrelay.protocol.message.frontend.Parse;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Turns a client's frames into {@link Request}s: groups them (a Query; extended-protocol messages
 * up to a Sync or Flush), classifies the SQL of each Query and Parse in place, and notes which
 * statements each Bind, Describe and Execute uses. Registers protocol-level prepared statements
 * with the session as they are parsed, since later messages refer to them.
 */
final class RequestAssembler {
    private final SessionClassifier classifier;
    private final SessionObjects objects;
    private final BooleanSupplier standardConformingStrings;
    private final Supplier settingsKey;
    /** The unnamed statement parsed in the request being assembled, while it is. */
    private Classification unnamedHere;
    /** Its Parse, while no Bind in the request used it: then it is kept for later requests. */
    private ByteBuf unnamedParse;
    /** Portals bound in the extended batch being assembled, with the statements they run. */
    /** Named portals; the unnamed one, bound in every extended-protocol request, has a field (no map entry each time). */
    private Map<String, List<StatementFacts>> portals = Collections.emptyMap(); // see LazyCollections
    private List<StatementFacts> unnamedPortal;
    /** Statement names the client binds again and again, read once. */
    private final FrameNames names = new FrameNames();

    /** The settings key a statement is parsed under (names in it resolve by search_path and the like). */
    @FunctionalInterface
    interface Supplier {
        String settingsKey();
    }

    RequestAssembler(SessionClassifier classifier, SessionObjects objects, BooleanSupplier standardConformingStrings,
                     Supplier settingsKey) {
        this.classifier = classifier;
        this.objects = objects;
        this.standardConformingStrings = standardConformingStrings;
        this.settingsKey = settingsKey;
    }

    /**
     * Adds a frame of the extended protocol or a Query to {@code request}; returns true when the
     * request is complete (Query, FunctionCall, Sync or Flush). Ownership of the frame passes to
     * the request.
     */
    boolean add(Request request, ByteBuf frame) {
        byte type = Wire.frameType(frame);
        try {
            switch (type) {
                case 'Q' -> {
                    request.add(frame, null);
                    query(request, frame);
                    request.terminator = 'Q';
                    return true;
                }
                case 'P' -> parse(request, frame);
                case 'B' -> bind(request, frame);
                case 'D' -> describe(request, frame);
                case 'E' -> execute(request, frame);
                case 'C' -> close(request, frame);
                case 'S', 'H', 'F' -> {
                    request.add(frame, null);
                    request.terminator = type;
                    keepUnnamedStatement();
                    if (type == 'S') {
                        // outside a transaction, portals end at Sync; inside, a Bind names them again
                        if (!portals.isEmpty()) {
                            portals.clear();
                        }
                        unnamedPortal = null;
                    }
                    return true;
                }
                default -> throw new IllegalArgumentException("not a request frame: " + (char) type);
            }
            return false;
        } catch (RuntimeException e) {
            if (!request.frames.contains(frame)) {
                frame.release();
            }
            throw e;
        }
    }

    private boolean scs() {
        return standardConformingStrings.getAsBoolean();
    }

    private void query(Request request, ByteBuf frame) {
        Classification classification = classifier.classify(frame, FramePeek.querySqlStart(frame),
                FramePeek.querySqlLength(frame), scs());
        request.classified(classification);
        addAll(request.executed, classification.statements());
        objects.unnamedReplaced();
    }

    private void parse(Request request, ByteBuf frame) {
        String name = FramePeek.parseName(frame);
        int start = FramePeek.parseSqlStart(frame);
        int length = FramePeek.parseSqlLength(frame);
        if (name.isEmpty() || objects.statement(name) != null) {
            // The server must see it: the unnamed statement, or a name it may have to refuse (42P05).
            request.parseNeedsServer = true;
        }
        request.add(frame, name);
        Classification classification = classifier.classify(frame, start, length, scs());
        request.classified(classification);
        if (name.isEmpty()) {
            objects.removeStatement(name);
            unnamedParse = frame;
            unnamedHere = classification;
        } else if (objects.statement(name) == null) {
            register(name, frame, classification);
        } else {
            request.refusedParses.set(request.frames.size() - 1); // the server refuses it: the session's statement of that name stays
        }
    }

    private void register(String name, ByteBuf frame, Classification classification) {
        Parse parse = Parse.decode(Wire.frameBody(frame));
        StatementIdentity identity = new StatementIdentity(name, parse.sql(), parse.parameterTypes(),
                settingsKey.settingsKey());
        objects.putStatement(name, new SessionObjects.PreparedStatement(identity, classification));
    }

    /**
     * An unnamed statement prepared for a later request (psql's \gdesc, libpq's PQprepare with
     * an empty name) is kept like a named one; one bound in its own request, as drivers do, is
     * not, so the common path decodes nothing.
     */
    private void keepUnnamedStatement() {
        if (unnamedParse != null) {
            register("", unnamedParse, unnamedHere);
            unnamedParse = null;
        }
        unnamedHere = null;
    }

    private void bind(Request request, ByteBuf frame) {
        String name = FramePeek.bindStatement(frame, names);
        request.add(frame, name);
        Classification bound;
        if (name.isEmpty() && unnamedHere != null) {
            bound = unnamedHere;
            unnamedParse = null; // bound at once, as drivers do: nothing to keep for later requests
        } else {
            SessionObjects.PreparedStatement statement = use(request, name);
            bound = statement != null ? statement.classification() : null;
        }
        String portal = FramePeek.bindPortal(frame);
        List<StatementFacts> statements = bound != null ? bound.statements() : List.of();
        if (portal.isEmpty()) {
            unnamedPortal = statements;
        } else {
            portals = LazyCollections.writable(portals);
            portals.put(portal, statements);
        }
    }

    private void describe(Request request, ByteBuf frame) {
        if (FramePeek.target(frame) == 'S') {
            String name = FramePeek.targetName(frame);
            request.add(frame, name);
            if (!name.isEmpty() || unnamedHere == null) {
                use(request, name);
            }
        } else {
            request.add(frame, null);
        }
    }

    private void execute(Request request, ByteBuf frame) {
        request.add(frame, null);
        String portal = FramePeek.executePortal(frame);
        List<StatementFacts> statements = portal.isEmpty() ? unnamedPortal : portals.get(portal);
        if (statements != null) {
            addAll(request.executed, statements);
        }
    }

    private void close(Request request, ByteBuf frame) {
        request.add(frame, FramePeek.target(frame) == 'S' ? FramePeek.targetName(frame) : null);
    }

    /** A Bind or Describe of a statement: parsed in this request, or earlier (then its facts count). */
    private SessionObjects.PreparedStatement use(Request request, String name) {
        SessionObjects.PreparedStatement statement = objects.statement(name);
        if (parsedIn(request, name)) {
            return statement;
        }
        if (statement == null) {
            if (request.unknownStatement == null) {
                request.unknownStatement = name.isEmpty() ? "unnamed statement" : name;
            }
        } else {
            request.uses(statement.classification());
        }
        return statement;
    }

    private static boolean parsedIn(Request request, String name) {
        for (int i = 0; i < request.frames.size() - 1; i++) {
            if (Wire.frameType(request.frames.get(i)) == 'P' && name.equals(request.names.get(i))) {
                return true;
            }
        }
        return false;
    }

    /** Adds without the array copy ArrayList.addAll makes: this runs for every request. */
    static <T> void addAll(List<T> to, List<T> from) {
        for (int i = 0; i < from.size(); i++) {
            to.add(from.get(i));
        }
    }

    /** Frames that do not belong to a request: COPY data and the like go straight to the server. */
    static boolean isRequestFrame(byte type) {
        return switch (type) {
            case 'Q', 'P', 'B', 'D', 'E', 'C', 'S', 'H', 'F' -> true;
            default -> false;
        };
    }

    static PgProtocolException invalid(byte type) {
        return PgProtocolException.violation("invalid frontend message type " + (type & 0xff));
    }
}
