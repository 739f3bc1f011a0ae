-- 0005_products: the image products of CU13 (stacks, mosaics), their detections (CU14) and the
-- H2-K difference images of CU5.
--
-- * A product is a Multiframe row like a delivered frame (frameType stack, mosaic or diff), with
--   its confidence map (frameType conf) linked by confID.
-- * Provenance: which frames went into each product (the WSA's combiframeID -> multiframeID);
--   inputOrder 0 is the reference frame (its zero point, exposure time and primary header).
-- * RequiredStack: the prescription of each programme: which passbands are stacked (one stack per
--   field, from minFrames frames) and which are mosaiced (one mosaic of every field).
-- * RequiredDiff: which pairs of passbands are differenced (GPS: H2 - K, continuum subtraction).
-- * A product made again with more (or newer) frames is a new version (a new file); the one it
--   replaces is deprecated with code 2 (superseded by a product of more or newer frames).
-- * Detections on a product (CU14) go into the programme's Detection table, linked by the
--   product's multiframeID, and are recorded in CatalogueIngest like CU4's.

CREATE TABLE Provenance (
    combiframeID  bigint NOT NULL REFERENCES Multiframe ON DELETE CASCADE,  -- the product
    multiframeID  bigint NOT NULL REFERENCES Multiframe,                    -- one of its inputs
    inputOrder    smallint NOT NULL,                                        -- 0: the reference frame
    cuEventID     integer NOT NULL,
    PRIMARY KEY (combiframeID, multiframeID)
);

CREATE INDEX provenance_input ON Provenance (multiframeID);

CREATE TABLE RequiredStack (
    programmeID  integer NOT NULL REFERENCES Programme,
    filterID     smallint NOT NULL REFERENCES Filter,
    productType  varchar(16) NOT NULL CHECK (productType IN ('stack', 'mosaic')),
    minFrames    smallint NOT NULL DEFAULT 2 CHECK (minFrames >= 1),
    PRIMARY KEY (programmeID, filterID, productType)
);

-- Every programme stacks each of its passbands; the deep fields (DXS, UDS) are also mosaiced.
INSERT INTO RequiredStack (programmeID, filterID, productType, minFrames)
SELECT programmeID, filterID, 'stack', 2 FROM RequiredFilters;
INSERT INTO RequiredStack (programmeID, filterID, productType, minFrames)
SELECT programmeID, filterID, 'mosaic', 1 FROM RequiredFilters WHERE programmeID IN (104, 105);

CREATE TABLE RequiredDiff (
    programmeID  integer NOT NULL REFERENCES Programme,
    filterID     smallint NOT NULL REFERENCES Filter,   -- the line image (H2)
    contFilterID smallint NOT NULL REFERENCES Filter,   -- the continuum subtracted from it (K)
    PRIMARY KEY (programmeID, filterID, contFilterID)
);

INSERT INTO RequiredDiff (programmeID, filterID, contFilterID) VALUES (102, 6, 5);

CREATE INDEX multiframe_products ON Multiframe (programmeID, frameType, filterID) WHERE deprecated = 0;

-- CU13 and CU14 for every programme that asks for products, CU5 for those that difference.
INSERT INTO RequiredCurationTask (programmeID, cuID, taskOrder)
SELECT DISTINCT programmeID, 13, 13 FROM RequiredStack
UNION SELECT DISTINCT programmeID, 14, 14 FROM RequiredStack
UNION SELECT DISTINCT programmeID, 5, 5 FROM RequiredDiff
ON CONFLICT DO NOTHING;

GRANT SELECT ON Provenance, RequiredStack, RequiredDiff TO wsa_reader;
