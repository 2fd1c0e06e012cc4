package io.pgrelay.core.ops;

/**
 * What a failover or switchover does just before promoting: with coordination, make sure no
 * pgrelay instance sends writes to any node any more (see docs/coordination.md). Blocks; runs on
 * the operation's thread.
 */
public interface PromotionGuard {
    /** Alone, this instance's own routing is the only one, and the operation handles it. */
    PromotionGuard NONE = new PromotionGuard() {
        @Override
        public String holdWrites() {
            return "no other pgrelay instance";
        }

        @Override
        public void release() {
        }

        @Override
        public void reinstate(String primary) {
        }
    };

    /** Returns what it did; throws when some instance may still write (the promotion must not go on). */
    String holdWrites() throws Exception;

    /** The promotion did not happen: give writes back to the primary named before {@link #holdWrites}. */
    void release();

    /**
     * A failover another leader left unfinished: the record names no primary, yet {@code primary}
     * is the only one and answers. Names it primary again for every instance; throws when it cannot.
     */
    void reinstate(String primary) throws Exception;
}
