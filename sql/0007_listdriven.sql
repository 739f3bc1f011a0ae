-- 0007_listdriven: list-driven remeasurement (CU9).
--
-- At the position of every merged source that lacks a band, the archive measures the flux in
-- that band's frame of the frame set anyway (forced aperture photometry), so that a faint object
-- seen in the deep stacks gets a magnitude - or a meaningful upper limit - where single-frame
-- extraction found nothing. As the WSA: the prescription in RequiredListDrivenProduct, the
-- measurements per frame in <prog>ListRemeasurement, per source in <prog>SourceRemeasurement,
-- and MergeLog.listProc<B> set once a slot's frame has been list-processed.

-- Which bands are remeasured, and how (WSA RequiredListDrivenProduct, with our columns
-- `aperture` in arcsec and `measureAll`).
CREATE TABLE RequiredListDrivenProduct (
    programmeID  integer NOT NULL REFERENCES Programme,
    filterID     smallint NOT NULL DEFAULT 0,      -- 0: every passband of the programme
    aperture     real NOT NULL,                    -- aperture radius (arcsec): 1.0 = aperMag3's 2" diameter
    extractor    varchar(16) NOT NULL DEFAULT 'WSA',  -- WSA: the archive's forced aperture photometry
    measureAll   smallint NOT NULL DEFAULT 0,      -- 1: at every source; 0: where the band has no detection
    PRIMARY KEY (programmeID, filterID)
);

INSERT INTO RequiredListDrivenProduct (programmeID, filterID, aperture, extractor, measureAll)
SELECT programmeID, 0, 1.0, 'WSA', 0 FROM Programme WHERE programmeID IN (101, 102, 103, 104, 105);

ALTER TABLE Programme
    ADD COLUMN listRemeasTable   varchar(64) NOT NULL DEFAULT 'NONE',  -- per-frame remeasurements
    ADD COLUMN sourceRemeasTable varchar(64) NOT NULL DEFAULT 'NONE';  -- per-source remeasurements

UPDATE Programme SET listRemeasTable = lower(name) || 'ListRemeasurement',
                     sourceRemeasTable = lower(name) || 'SourceRemeasurement'
WHERE programmeID IN (101, 102, 103, 104, 105);

-- Creates <prog>ListRemeasurement and <prog>SourceRemeasurement of a programme.
CREATE FUNCTION curation.create_remeasurement_tables(p_programme bigint) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    prog record;
    s record;
    cols text := '';
BEGIN
    SELECT lower(listRemeasTable) AS list, lower(sourceRemeasTable) AS source INTO prog
    FROM Programme WHERE programmeID = p_programme;
    EXECUTE format($q$
        CREATE TABLE %I (
            multiframeID  bigint NOT NULL,       -- the frame measured (a slot frame of the frame set)
            extNum        smallint NOT NULL,
            seqNum        integer NOT NULL,      -- running number in this frame's list
            sourceID      bigint NOT NULL,       -- the merged source measured
            frameSetID    bigint NOT NULL,
            filterID      smallint NOT NULL,
            x             real NOT NULL DEFAULT -0.9999995e9,   -- pixels (FITS, 1-based)
            y             real NOT NULL DEFAULT -0.9999995e9,
            ra            double precision NOT NULL,            -- degrees: the source's position
            dec           double precision NOT NULL,
            aperFlux3     real NOT NULL DEFAULT -0.9999995e9,   -- ADU in the aperture, sky subtracted
            aperFlux3Err  real NOT NULL DEFAULT -0.9999995e9,
            aperMag3      real NOT NULL DEFAULT -0.9999995e9,   -- calibrated (the frame's detections' system)
            aperMag3Err   real NOT NULL DEFAULT -0.9999995e9,
            sky           real NOT NULL DEFAULT -0.9999995e9,   -- ADU per pixel (annulus median)
            skyVar        real NOT NULL DEFAULT -0.9999995e9,   -- ADU per pixel (annulus rms)
            errBits       integer NOT NULL DEFAULT 0,           -- 1 aperture off the image, 2 bad pixels inside, 4 flux <= 0
            cuEventID     integer NOT NULL,
            PRIMARY KEY (multiframeID, extNum, seqNum)
        )$q$, prog.list);
    EXECUTE format('CREATE INDEX %I ON %I (sourceID)', prog.list || '_source', prog.list);
    EXECUTE format('CREATE INDEX %I ON %I (frameSetID)', prog.list || '_frameset', prog.list);

    FOR s IN SELECT * FROM curation.merge_slots(p_programme) ORDER BY slot LOOP
        cols := cols || format('%I real NOT NULL DEFAULT -0.9999995e9, %I real NOT NULL DEFAULT -0.9999995e9, '
                               '%I smallint NOT NULL DEFAULT 0, ',
                               lower(s.prefix || 'Mag'), lower(s.prefix || 'MagErr'), lower(s.prefix || 'Forced'));
    END LOOP;
    EXECUTE format($q$
        CREATE TABLE %I (
            sourceID    bigint PRIMARY KEY,
            cuEventID   integer NOT NULL,
            frameSetID  bigint NOT NULL,
            ra          double precision NOT NULL,
            dec         double precision NOT NULL,
            %s
            mergedClass smallint NOT NULL DEFAULT -9999
        )$q$, prog.source, cols);
    EXECUTE format('CREATE INDEX %I ON %I (frameSetID)', prog.source || '_frameset', prog.source);
    EXECUTE format('GRANT SELECT ON %I, %I TO wsa_reader', prog.list, prog.source);
END $$;

SELECT curation.create_remeasurement_tables(programmeID) FROM Programme WHERE programmeID IN (101, 102, 103, 104, 105);

-- CU9's work: current frame sets not yet list-processed (new ones, and those with a slot frame
-- not yet processed). Read-only.
CREATE FUNCTION curation.cu9_due(p_programme bigint) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    ml text;
    cond text := 'false';
    s record;
BEGIN
    SELECT lower(mergeLogTable) INTO ml FROM Programme WHERE programmeID = p_programme;
    IF ml IS NULL OR ml = 'none' THEN
        RAISE EXCEPTION 'cu9_due: programme % has no merge log', p_programme;
    END IF;
    FOR s IN SELECT * FROM curation.merge_slots(p_programme) LOOP
        cond := cond || format(' OR (%I > 0 AND %I = 0)', lower(s.prefix || 'mfID'), lower('listProc' || s.capPrefix));
    END LOOP;
    RETURN QUERY EXECUTE format('SELECT frameSetID FROM %I WHERE deprecated = 0 AND (newFrameSet = 1 OR %s) ORDER BY frameSetID',
                                ml, cond);
END $$;

-- The positions to measure in the frame sets p_frame_sets: per slot frame, every source that
-- has no detection in that slot (every source, when the prescription says measureAll), with
-- the aperture radius. Read-only.
CREATE FUNCTION curation.cu9_targets(p_programme bigint, p_frame_sets bigint[])
    RETURNS TABLE (frameSetID bigint, slot integer, filterID smallint, multiframeID bigint, extNum smallint,
                   sourceID bigint, sourceRa double precision, sourceDec double precision, aperture real)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    prog record;
    s record;
    q text := '';
BEGIN
    SELECT lower(sourceTable) AS src, lower(mergeLogTable) AS ml INTO prog FROM Programme WHERE programmeID = p_programme;
    FOR s IN SELECT * FROM curation.merge_slots(p_programme) ORDER BY slot LOOP
        q := q || format($f$
            SELECT m.frameSetID, %1$s, %2$s::smallint, m.%3$I, m.%4$I, x.sourceID, x.ra, x.dec, r.aperture
            FROM %5$I m JOIN %6$I x ON x.frameSetID = m.frameSetID
            JOIN RequiredListDrivenProduct r ON r.programmeID = %7$s AND r.filterID IN (0, %2$s)
            WHERE m.frameSetID = ANY($1) AND m.deprecated = 0 AND m.%3$I > 0
              AND (r.measureAll = 1 OR x.%8$I = -99999999)
            UNION ALL $f$,
            s.slot, s.filterID, lower(s.prefix || 'mfID'), lower(s.prefix || 'eNum'), prog.ml, prog.src,
            p_programme, lower(s.prefix || 'SeqNum'));
    END LOOP;
    q := q || 'SELECT NULL::bigint, NULL::integer, NULL::smallint, NULL::bigint, NULL::smallint, NULL::bigint, '
           || 'NULL::double precision, NULL::double precision, NULL::real WHERE false';
    RETURN QUERY EXECUTE 'SELECT * FROM (' || q || ') t ORDER BY 1, 2, 6' USING p_frame_sets;
END $$;

-- Before new measurements of p_frame_sets are loaded: removes the measurements of their frames
-- made for earlier versions, and those of frame sets no longer current. Returns rows removed.
CREATE FUNCTION curation.cu9_clear(p_programme bigint, p_frame_sets bigint[]) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    prog record;
    s record;
    frames text := '';
    n bigint;
    total bigint := 0;
BEGIN
    SELECT lower(mergeLogTable) AS ml, lower(listRemeasTable) AS list, lower(sourceRemeasTable) AS src
    INTO prog FROM Programme WHERE programmeID = p_programme;
    FOR s IN SELECT * FROM curation.merge_slots(p_programme) LOOP
        frames := frames || format('SELECT %I, %I FROM %I WHERE frameSetID = ANY($1) UNION ALL ',
                                   lower(s.prefix || 'mfID'), lower(s.prefix || 'eNum'), prog.ml);
    END LOOP;
    EXECUTE format($q$
        DELETE FROM %1$I l
        WHERE (l.multiframeID, l.extNum) IN (%2$s SELECT NULL::bigint, NULL::smallint WHERE false)
           OR l.frameSetID IN (SELECT frameSetID FROM %3$I WHERE deprecated <> 0)
        $q$, prog.list, frames, prog.ml) USING p_frame_sets;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    EXECUTE format($q$
        DELETE FROM %1$I WHERE frameSetID = ANY($1) OR frameSetID IN (SELECT frameSetID FROM %2$I WHERE deprecated <> 0)
        $q$, prog.src, prog.ml) USING p_frame_sets;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN total + n;
END $$;

-- After the measurements of p_frame_sets are loaded (in the same step): one SourceRemeasurement
-- row per source of those frame sets - per slot the forced measurement where there is one, else
-- the detection's aperMag3 - and the frame sets marked list-processed (listProc<B> = 1 for every
-- slot with a frame, newFrameSet = 0). Returns the sources written.
CREATE FUNCTION curation.cu9_finish(p_programme bigint, p_cu_event bigint, p_frame_sets bigint[]) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    prog record;
    s record;
    cols text := '';
    vals text := '';
    joins text := '';
    flags text := '';
    n bigint;
BEGIN
    SELECT lower(sourceTable) AS src, lower(mergeLogTable) AS ml, lower(listRemeasTable) AS list,
           lower(sourceRemeasTable) AS remeas
    INTO prog FROM Programme WHERE programmeID = p_programme;
    FOR s IN SELECT * FROM curation.merge_slots(p_programme) ORDER BY slot LOOP
        cols := cols || format('%I, %I, %I, ', lower(s.prefix || 'Mag'), lower(s.prefix || 'MagErr'), lower(s.prefix || 'Forced'));
        vals := vals || format(
            'CASE WHEN f%1$s.sourceID IS NOT NULL THEN f%1$s.aperMag3 ELSE x.%2$I END, '
            'CASE WHEN f%1$s.sourceID IS NOT NULL THEN f%1$s.aperMag3Err ELSE x.%3$I END, '
            'CASE WHEN f%1$s.sourceID IS NOT NULL THEN 1 ELSE 0 END, ',
            s.slot, lower(s.prefix || 'AperMag3'), lower(s.prefix || 'AperMag3Err'));
        joins := joins || format(
            ' LEFT JOIN %1$I f%2$s ON f%2$s.sourceID = x.sourceID AND f%2$s.multiframeID = m.%3$I AND f%2$s.extNum = m.%4$I',
            prog.list, s.slot, lower(s.prefix || 'mfID'), lower(s.prefix || 'eNum'));
        flags := flags || format('%1$I = CASE WHEN %2$I > 0 THEN 1 ELSE %1$I END, ',
                                 lower('listProc' || s.capPrefix), lower(s.prefix || 'mfID'));
    END LOOP;
    EXECUTE format($q$
        INSERT INTO %1$I (sourceID, cuEventID, frameSetID, ra, dec, %2$s mergedClass)
        SELECT x.sourceID, %3$s, x.frameSetID, x.ra, x.dec, %4$s x.mergedClass
        FROM %5$I x JOIN %6$I m ON m.frameSetID = x.frameSetID %7$s
        WHERE x.frameSetID = ANY($1)
        $q$, prog.remeas, cols, p_cu_event, vals, prog.src, prog.ml, joins) USING p_frame_sets;
    GET DIAGNOSTICS n = ROW_COUNT;
    EXECUTE format('UPDATE %I SET %s newFrameSet = 0 WHERE frameSetID = ANY($1) AND deprecated = 0', prog.ml, flags)
        USING p_frame_sets;
    RETURN n;
END $$;

-- What a programme's merged catalogue holds: current frame sets, sources, seamless sources
-- ((priOrSec = 0 OR priOrSec = frameSetID)) and sources with a SourceRemeasurement row.
CREATE FUNCTION curation.catalogue_counts(p_programme bigint,
    OUT frameSets bigint, OUT sources bigint, OUT seamless bigint, OUT remeasured bigint)
    LANGUAGE plpgsql STABLE AS $$
DECLARE prog record;
BEGIN
    SELECT lower(sourceTable) AS src, lower(mergeLogTable) AS ml, lower(sourceRemeasTable) AS remeas
    INTO prog FROM Programme WHERE programmeID = p_programme;
    IF prog.src IS NULL OR prog.src = 'none' THEN
        frameSets := 0; sources := 0; seamless := 0; remeasured := 0;
        RETURN;
    END IF;
    EXECUTE format('SELECT count(*) FROM %I WHERE deprecated = 0', prog.ml) INTO frameSets;
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE priOrSec = 0 OR priOrSec = frameSetID) FROM %I', prog.src)
        INTO sources, seamless;
    EXECUTE format('SELECT count(*) FROM %I', prog.remeas) INTO remeasured;
END $$;

GRANT SELECT ON RequiredListDrivenProduct TO wsa_reader;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA curation TO wsa_reader;
